"""The client core (issue 6 item 1) through gatehouse_client_probe, against real peers on
loopback: gatehouse, nginx with TLS, tinyproxy, and small in-process HTTP servers that record
what they receive (client_probe.py)."""
import os
import select
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest

import gh
from client_probe import (ConnectionCounter, RecordingServer, SilentServer, free_port, header,
                          make_tls_material, run_probe, stop_process, wait_listening)


class Nginx:
    """nginx with three TLS servers: `good` (CA-signed, localhost + 127.0.0.1), `other` (CA-signed,
    DNS:other.example only), `selfsigned`. Each answers 200 "tls ok sni=<SNI>"."""

    def __init__(self, tmp, tls):
        self.dir = os.path.join(tmp, "nginx")
        os.makedirs(os.path.join(self.dir, "tmp"))
        self.ports = {name: free_port() for name in ("good", "other", "selfsigned")}
        servers = ""
        for name, cert in (("good", "localhost"), ("other", "other"), ("selfsigned", "self")):
            servers += f"""
  server {{
    listen 127.0.0.1:{self.ports[name]} ssl;
    ssl_certificate {tls[cert + '.pem']};
    ssl_certificate_key {tls[cert + '.key']};
    location / {{ return 200 "tls ok sni=$ssl_server_name\\n"; }}
  }}"""
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(f"""worker_processes 1;
pid {self.dir}/nginx.pid;
error_log {self.dir}/error.log warn;
events {{ worker_connections 256; }}
http {{
  access_log {self.dir}/access.log;
  default_type text/plain;
  client_body_temp_path {self.dir}/tmp/body;
  proxy_temp_path {self.dir}/tmp/proxy;
  fastcgi_temp_path {self.dir}/tmp/fastcgi;
  uwsgi_temp_path {self.dir}/tmp/uwsgi;
  scgi_temp_path {self.dir}/tmp/scgi;{servers}
}}
""")
        self.proc = subprocess.Popen(
            [gh.require_tool("nginx"), "-p", self.dir, "-e", f"{self.dir}/error.log", "-c", conf,
             "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for port in self.ports.values():
            wait_listening(port, self.proc, "nginx")

    def stop(self):
        stop_process(self.proc)


class Tinyproxy:
    """tinyproxy in the foreground on a free port; `basic_auth` = (user, password) or None."""

    def __init__(self, tmp, name, basic_auth=None):
        self.dir = os.path.join(tmp, name)
        os.makedirs(self.dir)
        self.port = free_port()
        self.log = os.path.join(self.dir, "tinyproxy.log")
        conf = os.path.join(self.dir, "tinyproxy.conf")
        with open(conf, "w") as f:
            f.write(f'Port {self.port}\nListen 127.0.0.1\nTimeout 30\nLogFile "{self.log}"\n'
                    f'LogLevel Info\nPidFile "{self.dir}/tinyproxy.pid"\nMaxClients 50\n'
                    f'Allow 127.0.0.1\nViaProxyName "tinyproxy"\n')
            if basic_auth:
                f.write(f"BasicAuth {basic_auth[0]} {basic_auth[1]}\n")
        self.proc = subprocess.Popen([gh.require_tool("tinyproxy"), "-d", "-c", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_listening(self.port, self.proc, "tinyproxy")
        self.url = f"http://127.0.0.1:{self.port}"

    def log_text(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def stop(self):
        stop_process(self.proc)


class TlsCloser:
    """TLS on 127.0.0.1 (the CA-signed localhost cert): each connection reads one request head,
    sends `reply`, then ends the TCP connection without TLS close_notify, or with it when
    `close_notify`."""

    def __init__(self, tls, reply, close_notify=False):
        self.reply = reply
        self.close_notify = close_notify
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(tls["localhost.pem"], tls["localhost.key"])
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.url = f"https://127.0.0.1:{self.port}/"
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(10)
        tls = None
        try:
            tls = self.context.wrap_socket(conn, server_side=True)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = tls.recv(4096)
                if not chunk:
                    return
                data += chunk
            tls.sendall(self.reply)
            if self.close_notify:
                tls.unwrap()
            else:
                # SSLSocket.shutdown drops the TLS layer: a TCP FIN, no close_notify.
                tls.shutdown(socket.SHUT_RDWR)
        except (OSError, ssl.SSLError):
            pass
        finally:
            (tls or conn).close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.listener.close()


class ClientCoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="gatehouse-client-")
        cls.server = gh.Server().start()
        cls.tls = make_tls_material(cls.tmp)
        cls.nginx = Nginx(cls.tmp, cls.tls)
        cls.proxy = Tinyproxy(cls.tmp, "proxy")
        cls.auth_proxy = Tinyproxy(cls.tmp, "auth-proxy", basic_auth=("alice", "s3cret"))

    @classmethod
    def tearDownClass(cls):
        for peer in (cls.auth_proxy, cls.proxy, cls.nginx):
            peer.stop()
        cls.server.stop()
        shutil.rmtree(cls.server.tmp, ignore_errors=True)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def probe(self, requests, env=None, **doc):
        doc["requests"] = requests
        out = run_probe(doc, env=env)
        return out["results"]

    def one(self, request, **doc):
        return self.probe([request], **doc)[0]

    def https(self, name, host="127.0.0.1"):
        return f"https://{host}:{self.nginx.ports[name]}/"

    # ---------------------------------------------------------------- keep-alive, concurrency
    def test_keep_alive_reuses_one_connection(self):
        with ConnectionCounter(self.server.port) as relay:
            results = self.probe([{"url": relay.url + "/metrics"}] * 5)
        self.assertEqual([r.get("status") for r in results], [200] * 5, results)
        self.assertEqual(relay.accepted, 1, "five sequential requests should share a connection")

    def test_no_idle_pool_means_one_connection_per_request(self):
        with ConnectionCounter(self.server.port) as relay:
            results = self.probe([{"url": relay.url + "/metrics"}] * 3,
                                 options={"max_idle_connections_per_origin": 0})
        self.assertEqual([r.get("status") for r in results], [200] * 3, results)
        self.assertEqual(relay.accepted, 3)

    def test_expired_idle_connections_are_not_reused(self):
        # keepalive_expiry 0: every pooled connection has expired by the next request.
        with ConnectionCounter(self.server.port) as relay:
            results = self.probe([{"url": relay.url + "/metrics"}] * 3,
                                 options={"keepalive_expiry_ms": 0})
        self.assertEqual([r.get("status") for r in results], [200] * 3, results)
        self.assertEqual(relay.accepted, 3)

    def test_server_closing_an_idle_connection_is_survived(self):
        # The recorder closes after each response ("Connection: close" is not sent, the socket
        # just closes): the pooled connection is dead, the next GET must still succeed.
        def close_after(handler):
            handler.close_connection = True
            return 200, {}, "bye"

        with RecordingServer({"/close": close_after}) as rec:
            results = self.probe([{"url": rec.url + "/close"}] * 3)
        self.assertEqual([r.get("status") for r in results], [200] * 3, results)
        self.assertEqual(len({r["conn"] for r in rec.requests}), 3)

    def test_concurrency_20_sync_and_async(self):
        for mode in ("sync", "async"):
            with self.subTest(mode=mode), ConnectionCounter(self.server.port) as relay:
                # An idle pool big enough for all 20: at most one connection per concurrent chain.
                out = run_probe({"mode": mode, "concurrency": 20,
                                 "options": {"max_idle_connections_per_origin": 20},
                                 "requests": [{"url": relay.url + "/metrics"},
                                              {"url": relay.url + "/auth/whoami"}]})
                statuses = [r.get("status") for r in out["results"]]
                self.assertEqual(statuses, [200, 401] * 20, out["results"][:3])
                self.assertLessEqual(relay.accepted, 20)
                self.assertTrue(all(r["url"].endswith(("/metrics", "/auth/whoami"))
                                    for r in out["results"]))

    def test_request_headers_host_user_agent_content_length(self):
        with RecordingServer() as rec:
            r = self.one({"method": "POST", "url": rec.url + "/echo?x=1",
                          "headers": [["X-Custom", "v1"], ["Content-Length", "999"]],
                          "body": "hello"}, options={"user_agent": "probe/1"})
        self.assertEqual(r["status"], 200, r)
        seen = rec.requests[0]
        self.assertEqual(seen["path"], "/echo?x=1")
        self.assertEqual(seen["headers"]["host"], f"127.0.0.1:{rec.port}")
        self.assertEqual(seen["headers"]["user-agent"], "probe/1")
        self.assertEqual(seen["headers"]["content-length"], "5")
        self.assertEqual(seen["headers"]["x-custom"], "v1")
        self.assertEqual(seen["body"], "hello")

    # ---------------------------------------------------------------- bad requests
    def test_header_injection_and_bad_urls_are_refused(self):
        with RecordingServer() as rec:
            results = self.probe([
                {"url": rec.url + "/", "headers": [["X-A", "a\r\nX-Evil: 1"]]},
                {"url": rec.url + "/", "headers": [["X-A", "a\nb"]]},
                {"url": rec.url + "/", "headers": [["Bad Name", "v"]]},
                {"url": rec.url + "/", "method": "GE T"},
                {"url": "ftp://127.0.0.1/"},
                {"url": "127.0.0.1/path"},
                {"url": "http://user:pw@127.0.0.1/"},
                {"url": "http://127.0.0.1:99999/"},
            ])
            self.assertEqual(rec.requests, [], "nothing may reach the server")
        for r in results:
            self.assertEqual(r.get("error"), "RequestError", r)

    # ---------------------------------------------------------------- failures
    def test_timeout_against_a_silent_server(self):
        with SilentServer() as silent:
            started = time.monotonic()
            r = self.one({"url": silent.url + "/"}, options={"timeout_ms": 400})
            elapsed = time.monotonic() - started
        self.assertEqual(r.get("error"), "TimeoutError", r)
        self.assertIn("timed out", r["message"])
        self.assertLess(elapsed, 10, "the timeout must bound the wait")

    def test_async_timeout_against_a_silent_server(self):
        with SilentServer() as silent:
            out = run_probe({"mode": "async", "concurrency": 5, "options": {"timeout_ms": 300},
                             "requests": [{"url": silent.url + "/"}]})
        self.assertEqual([r.get("error") for r in out["results"]], ["TimeoutError"] * 5)

    def test_query_api_key_never_in_messages_or_logs(self):
        key = "k3y-5ecret-value"
        apikey = {"kind": "apikey", "key": key, "placement": "query",
                  "allow_insecure_query": True}
        loop = RecordingServer({"/loop": lambda h: (302, {"Location": "/loop"}, "")})
        with SilentServer() as silent, loop:
            out = run_probe({"options": {"timeout_ms": 300, "max_redirects": 2},
                             "requests": [
                                 {"url": silent.url + "/", "auth": apikey},
                                 {"url": loop.url + "/loop", "auth": apikey},
                                 {"url": loop.url + "/loop?access_token=" + key},
                                 {"url": loop.url + "/ok", "auth": apikey},
                             ]}, env={"GATEHOUSE_LOG_LEVEL": "trace"})
            sent = [r["path"] for r in loop.requests]
        timeout, redirects, caller_token, ok = out["results"]
        self.assertIn("/loop?api_key=" + key, sent)  # the key did go on the wire
        self.assertEqual(timeout.get("error"), "TimeoutError", timeout)
        self.assertIn("api_key=***", timeout["message"])
        for r in (redirects, caller_token):
            self.assertEqual(r.get("error"), "TransportError", r)
            self.assertIn("too many redirects", r["message"])
        self.assertEqual(ok.get("status"), 200, ok)
        for r in (timeout, redirects, caller_token):
            self.assertNotIn(key, r["message"])
        self.assertIn("redirect", out["stderr"])
        self.assertIn("api_key=***", out["stderr"])
        self.assertNotIn(key, out["stderr"])

    def test_connect_timeout(self):
        # A listener that never accepts, its backlog filled: further SYNs are dropped.
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                fillers.append(s)
            # The accept queue (backlog 0: one connection) is full once a filler has connected;
            # from then on the kernel drops further SYNs.
            _, connected, _ = select.select([], fillers, [], 5.0)
            self.assertTrue(connected, "no filler connection completed")
            started = time.monotonic()
            r = self.one({"url": f"http://127.0.0.1:{port}/"},
                         options={"connect_timeout_ms": 300, "timeout_ms": 60000})
            elapsed = time.monotonic() - started
        finally:
            for s in fillers:
                s.close()
            listener.close()
        self.assertEqual(r.get("error"), "TimeoutError", r)
        self.assertIn("connecting", r["message"])
        self.assertLess(elapsed, 10)

    def test_connection_refused(self):
        port = free_port()
        r = self.one({"url": f"http://127.0.0.1:{port}/"})
        self.assertEqual(r.get("error"), "TransportError", r)

    def test_close_mid_response(self):
        reply = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b"
        with SilentServer(reply=reply) as peer:
            started = time.monotonic()
            r = self.one({"url": peer.url + "/"}, options={"timeout_ms": 30000})
            elapsed = time.monotonic() - started
        self.assertEqual(r.get("error"), "TransportError", r)
        self.assertLess(elapsed, 10, "a closed connection must fail at once, not time out")

    def test_garbage_response(self):
        with SilentServer(reply=b"SSH-2.0-OpenSSH\r\n\r\n") as peer:
            r = self.one({"url": peer.url + "/"})
        self.assertEqual(r.get("error"), "TransportError", r)

    def test_oversized_response(self):
        results = self.probe([{"url": self.server.url + "/metrics"}],
                             options={"max_response_bytes": 200})
        self.assertEqual(results[0].get("error"), "TransportError", results[0])
        self.assertIn("max_response_bytes", results[0]["message"])
        ok = self.probe([{"url": self.server.url + "/metrics"}],
                        options={"max_response_bytes": 1 << 20})
        self.assertEqual(ok[0].get("status"), 200)

    # ---------------------------------------------------------------- TLS
    def test_tls_with_cacert(self):
        results = self.probe([{"url": self.https("good")},
                              {"url": self.https("good", "localhost")}],
                             options={"ca_file": self.tls["ca.pem"]})
        self.assertEqual(results[0].get("status"), 200, results[0])
        self.assertEqual(results[0]["body"], "tls ok sni=\n", "no SNI for an IP address")
        self.assertEqual(results[1].get("status"), 200, results[1])
        self.assertEqual(results[1]["body"], "tls ok sni=localhost\n")

    def test_tls_wrong_hostname_refused(self):
        r = self.one({"url": self.https("other")}, options={"ca_file": self.tls["ca.pem"]})
        self.assertEqual(r.get("error"), "TransportError", r)
        self.assertIn("verification failed", r["message"])
        self.assertIn("host name", r["message"])

    def test_tls_unknown_ca_refused(self):
        results = self.probe([{"url": self.https("selfsigned")}, {"url": self.https("good")}],
                             options={"ca_file": self.tls["ca.pem"]})
        self.assertEqual(results[0].get("error"), "TransportError", results[0])
        self.assertIn("verification failed", results[0]["message"])
        self.assertIn("self-signed", results[0]["message"])
        # The system store does not know the test CA either.
        self.assertEqual(results[1].get("status"), 200)
        system = self.one({"url": self.https("good")})
        self.assertEqual(system.get("error"), "TransportError", system)
        self.assertIn("verification failed", system["message"])

    def test_tls_insecure_accepts_anything(self):
        results = self.probe([{"url": self.https(n)} for n in ("selfsigned", "other", "good")],
                             options={"verify_tls": False})
        self.assertEqual([r.get("status") for r in results], [200] * 3, results)

    def test_tls_keep_alive(self):
        with_counter = self.probe([{"url": self.https("good", "localhost")}] * 4,
                                  options={"ca_file": self.tls["ca.pem"]})
        self.assertEqual([r.get("status") for r in with_counter], [200] * 4)
        # nginx logs one line per request; $connection would need a log_format, so compare the
        # client's view instead: GATEHOUSE_LOG_LEVEL=debug says new/reused per request.
        out = run_probe({"options": {"ca_file": self.tls["ca.pem"]},
                         "requests": [{"url": self.https("good", "localhost")}] * 3},
                        env={"GATEHOUSE_LOG_LEVEL": "debug"})
        self.assertEqual(out["stderr"].count("new connection"), 1, out["stderr"])
        self.assertEqual(out["stderr"].count("reused connection"), 2, out["stderr"])

    def test_tls_close_without_close_notify(self):
        # RFC 9112 §9.8, RFC 8446 §6.1: a body ended only by the close is refused when the close
        # has no close_notify; a Content-Length or chunked body read to its end is complete.
        options = {"ca_file": self.tls["ca.pem"], "timeout_ms": 10000}
        cases = [
            (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nclose-delimited body", False),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nfull", False),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nfull\r\n0\r\n\r\n",
             False),
            (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nclose-delimited body", True),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", False),
        ]
        results = []
        for reply, close_notify in cases:
            with TlsCloser(self.tls, reply, close_notify) as peer:
                results.append(self.one({"url": peer.url}, options=options))
        truncated, framed, chunked, notified, short = results
        self.assertEqual(truncated.get("error"), "TransportError", truncated)
        self.assertIn("close_notify", truncated["message"])
        self.assertEqual((framed.get("status"), framed.get("body")), (200, "full"), framed)
        self.assertEqual((chunked.get("status"), chunked.get("body")), (200, "full"), chunked)
        self.assertEqual((notified.get("status"), notified.get("body")),
                         (200, "close-delimited body"), notified)
        self.assertEqual(short.get("error"), "TransportError", short)

    def test_bad_ca_file(self):
        r = self.one({"url": self.https("good")},
                     options={"ca_file": os.path.join(self.tmp, "missing.pem")})
        self.assertEqual(r.get("error"), "TransportError", r)
        self.assertIn("missing.pem", r["message"])

    # ---------------------------------------------------------------- auth loop
    def test_auth_flow_retry_once(self):
        def needs_header(handler):
            if handler.headers.get("X-Token") == "t1":
                return 200, {}, "in"
            return 401, {"WWW-Authenticate": "Test"}, "out"

        with RecordingServer({"/p": needs_header}) as rec:
            r = self.one({"url": rec.url + "/p"},
                         auth={"kind": "retry_once", "name": "X-Token", "value": "t1"})
        self.assertEqual(r.get("status"), 200, r)
        self.assertEqual([q["headers"].get("x-token") for q in rec.requests], [None, "t1"])

    def test_auth_flow_retry_cap_is_six_sends(self):
        with RecordingServer({"/p": lambda h: (401, {}, "no")}) as rec:
            r = self.one({"url": rec.url + "/p"}, auth={"kind": "retry_always", "name": "X-Try"})
        self.assertEqual(r.get("status"), 401, r)
        self.assertEqual([q["headers"]["x-try"] for q in rec.requests],
                         ["1", "2", "3", "4", "5", "6"])

    def test_auth_flow_renew(self):
        def needs_new(handler):
            return (200, {}, "in") if handler.headers.get("X-Key") == "new" else (401, {}, "no")

        with RecordingServer({"/p": needs_new}) as rec:
            results = self.probe(
                [{"url": rec.url + "/p"}, {"url": rec.url + "/p"}],
                auth={"kind": "renew", "name": "X-Key", "value": "old", "renewed_value": "new"})
        self.assertEqual([r.get("status") for r in results], [200, 200], results)
        self.assertEqual([q["headers"]["x-key"] for q in rec.requests], ["old", "new", "new"])

    def test_auth_flow_renew_at_most_once(self):
        with RecordingServer({"/p": lambda h: (401, {}, "no")}) as rec:
            r = self.one({"url": rec.url + "/p"},
                         auth={"kind": "renew", "name": "X-Key", "value": "a",
                               "renewed_value": "b"})
        self.assertEqual(r.get("status"), 401, r)
        self.assertEqual([q["headers"]["x-key"] for q in rec.requests], ["a", "b"])

    def test_auth_flow_renew_failure_fails_the_exchange(self):
        with RecordingServer({"/p": lambda h: (401, {}, "no")}) as rec:
            r = self.one({"url": rec.url + "/p"},
                         auth={"kind": "renew", "name": "X-Key", "value": "a", "fail": True})
        self.assertEqual(r.get("error"), "SessionExpiredError", r)
        self.assertEqual(len(rec.requests), 1)

    def test_auth_flow_exception_fails_the_exchange(self):
        with RecordingServer() as rec:
            out = run_probe({"mode": "async", "auth": {"kind": "throw", "message": "flow says no"},
                             "requests": [{"url": rec.url + "/"}]})
        r = out["results"][0]
        self.assertEqual(r.get("error"), "TransportError", r)
        self.assertEqual(r["message"], "flow says no")

    def test_request_auth_overrides_client_auth(self):
        with RecordingServer() as rec:
            self.probe([{"url": rec.url + "/a"}, {"url": rec.url + "/b", "auth": {"kind": "none"}}],
                       auth={"kind": "static_header", "name": "X-Auth", "value": "k"})
        self.assertEqual([q["headers"].get("x-auth") for q in rec.requests], ["k", None])

    # ---------------------------------------------------------------- redirects
    def redirect_servers(self):
        other = RecordingServer()
        routes = {
            "/same": lambda h: (302, {"Location": "/land"}, ""),
            "/cross": lambda h: (302, {"Location": other.url + "/land"}, ""),
            "/back": lambda h: (302, {"Location": other.url + "/return"}, ""),
            "/loop": lambda h: (302, {"Location": "/loop"}, ""),
            "/cross307": lambda h: (307, {"Location": other.url + "/land"}, ""),
        }
        for code in (301, 302, 303, 307, 308):
            routes[f"/{code}"] = (lambda c: lambda h: (c, {"Location": "/land"}, ""))(code)
        origin = RecordingServer(routes)
        other.routes["/return"] = lambda h: (302, {"Location": origin.url + "/land"}, "")
        return origin, other

    def test_same_origin_redirect_keeps_auth(self):
        origin, other = self.redirect_servers()
        with origin, other:
            r = self.one({"url": origin.url + "/same", "headers": [["Cookie", "c=1"]]},
                         auth={"kind": "static_header", "name": "Authorization", "value": "Bearer x"})
        self.assertEqual(r.get("status"), 200, r)
        self.assertEqual(r["url"], origin.url + "/land")
        land = origin.requests[-1]
        self.assertEqual(land["path"], "/land")
        self.assertEqual(land["headers"].get("authorization"), "Bearer x")
        self.assertEqual(land["headers"].get("cookie"), "c=1")

    def test_cross_origin_redirect_drops_credentials(self):
        origin, other = self.redirect_servers()
        with origin, other:
            r = self.one({"url": origin.url + "/cross",
                          "headers": [["Authorization", "Basic dXNlcjpwdw=="], ["Cookie", "c=1"],
                                      ["X-Other", "kept"]]},
                         auth={"kind": "static_header", "name": "X-Probe-Auth", "value": "secret"})
        self.assertEqual(r.get("status"), 200, r)
        self.assertEqual(r["url"], other.url + "/land")
        self.assertEqual(origin.requests[0]["headers"].get("x-probe-auth"), "secret")
        self.assertEqual(len(other.requests), 1)
        seen = other.requests[0]["headers"]
        self.assertNotIn("authorization", seen)
        self.assertNotIn("cookie", seen)
        self.assertNotIn("x-probe-auth", seen, "the auth flow must not run for another origin")
        self.assertEqual(seen.get("x-other"), "kept")
        self.assertEqual(seen.get("host"), f"127.0.0.1:{other.port}")

    def test_cross_origin_307_with_a_body_is_not_followed(self):
        # The body may be a password or a refresh token: it never goes to another origin.
        origin, other = self.redirect_servers()
        with origin, other:
            r = self.one({"method": "POST", "url": origin.url + "/cross307",
                          "body": "refresh_token=secret"})
            self.assertEqual(r.get("status"), 307, r)
            self.assertEqual(other.requests, [])
            r = self.one({"url": origin.url + "/cross307"})  # no body: followed
            self.assertEqual(r.get("status"), 200, r)
            self.assertEqual(len(other.requests), 1)

    def test_redirect_back_to_the_origin_runs_the_flow_again(self):
        origin, other = self.redirect_servers()
        with origin, other:
            r = self.one({"url": origin.url + "/back"},
                         auth={"kind": "static_header", "name": "X-Probe-Auth", "value": "secret"})
        self.assertEqual(r.get("status"), 200, r)
        self.assertNotIn("x-probe-auth", other.requests[0]["headers"])
        self.assertEqual(origin.requests[-1]["path"], "/land")
        self.assertEqual(origin.requests[-1]["headers"].get("x-probe-auth"), "secret")

    def test_redirect_method_rules(self):
        origin, other = self.redirect_servers()
        with origin, other:
            cases = [("POST", 303, "GET", ""), ("HEAD", 303, "HEAD", ""),
                     ("PUT", 303, "GET", ""), ("POST", 301, "GET", ""), ("POST", 302, "GET", ""),
                     ("PUT", 301, "PUT", "data"), ("POST", 307, "POST", "data"),
                     ("POST", 308, "POST", "data")]
            for method, code, want_method, want_body in cases:
                origin.requests.clear()
                r = self.one({"method": method, "url": f"{origin.url}/{code}", "body": "data",
                              "headers": [["Content-Type", "text/plain"]]})
                self.assertEqual(r.get("status"), 200, (method, code, r))
                land = origin.requests[-1]
                self.assertEqual(land["path"], "/land")
                self.assertEqual((land["method"], land["body"]), (want_method, want_body),
                                 (method, code))
                if not want_body:
                    self.assertNotIn("content-type", land["headers"], (method, code))

    def test_too_many_redirects(self):
        origin, other = self.redirect_servers()
        with origin, other:
            r = self.one({"url": origin.url + "/loop"}, options={"max_redirects": 4})
            self.assertEqual(len(origin.requests), 5)
        self.assertEqual(r.get("error"), "TransportError", r)
        self.assertIn("too many redirects", r["message"])

    def test_redirects_not_followed_when_disabled(self):
        origin, other = self.redirect_servers()
        with origin, other:
            r = self.one({"url": origin.url + "/same"}, options={"follow_redirects": False})
        self.assertEqual(r.get("status"), 302)
        self.assertEqual(header(r, "Location"), "/land")

    # ---------------------------------------------------------------- proxies
    def test_http_through_proxy(self):
        with RecordingServer() as rec:
            r = self.one({"url": rec.url + "/via-proxy?q=1"},
                         options={"http_proxy": self.proxy.url})
        self.assertEqual(r.get("status"), 200, r)
        self.assertEqual(rec.requests[0]["path"], "/via-proxy?q=1")
        self.assertIn("tinyproxy", rec.requests[0]["headers"].get("via", ""))
        self.assertIn(f"127.0.0.1:{rec.port}/via-proxy", self.proxy.log_text())

    def test_https_through_proxy_connect(self):
        url = self.https("good", "localhost")
        r = self.one({"url": url}, options={"https_proxy": self.proxy.url,
                                            "ca_file": self.tls["ca.pem"]})
        self.assertEqual(r.get("status"), 200, r)
        self.assertEqual(r["body"], "tls ok sni=localhost\n")
        self.assertIn(f"CONNECT localhost:{self.nginx.ports['good']}", self.proxy.log_text())

    def test_no_proxy_bypasses_the_proxy(self):
        with RecordingServer() as rec:
            results = self.probe(
                [{"url": rec.url + "/direct-a"}, {"url": rec.url.replace("127.0.0.1", "localhost") + "/direct-b"}],
                options={"http_proxy": self.proxy.url, "no_proxy": "example.com, .localhost,127.0.0.0/8"})
        self.assertEqual([r.get("status") for r in results], [200, 200], results)
        self.assertTrue(all("via" not in q["headers"] for q in rec.requests))
        self.assertNotIn("/direct-", self.proxy.log_text())

    def test_proxies_from_the_environment(self):
        with RecordingServer() as rec:
            env = {"http_proxy": self.proxy.url}
            r = self.one({"url": rec.url + "/env-lower"}, env=env, options={"use_env_proxies": True})
            # HTTP_PROXY in upper case is ignored (httpoxy), as curl does.
            r2 = self.one({"url": rec.url + "/env-upper"}, env={"HTTP_PROXY": self.proxy.url},
                          options={"use_env_proxies": True})
            r3 = self.one({"url": rec.url + "/env-noproxy"},
                          env={"http_proxy": self.proxy.url, "NO_PROXY": "127.0.0.1"},
                          options={"use_env_proxies": True})
        self.assertEqual([r.get("status"), r2.get("status"), r3.get("status")], [200] * 3)
        via = {q["path"]: "via" in q["headers"] for q in rec.requests}
        self.assertEqual(via, {"/env-lower": True, "/env-upper": False, "/env-noproxy": False})
        https = self.one({"url": self.https("good", "localhost")},
                         env={"HTTPS_PROXY": self.proxy.url},
                         options={"use_env_proxies": True, "ca_file": self.tls["ca.pem"]})
        self.assertEqual(https.get("status"), 200, https)
        self.assertIn(f"CONNECT localhost:{self.nginx.ports['good']}", self.proxy.log_text())

    def test_proxy_authentication(self):
        with RecordingServer() as rec:
            refused = self.one({"url": rec.url + "/x"}, options={"http_proxy": self.auth_proxy.url})
            ok = self.one({"url": rec.url + "/y"}, options={
                "http_proxy": f"http://alice:s3cret@127.0.0.1:{self.auth_proxy.port}"})
            # A 407 goes to the auth flow like a 401: a flow that sets Proxy-Authorization works.
            flow = self.one({"url": rec.url + "/z"}, options={"http_proxy": self.auth_proxy.url},
                            auth={"kind": "static_header", "name": "Proxy-Authorization",
                                  "value": "Basic YWxpY2U6czNjcmV0"})
        self.assertEqual(refused.get("status"), 407, refused)
        self.assertIsNotNone(header(refused, "Proxy-Authenticate"))
        self.assertEqual(ok.get("status"), 200, ok)
        self.assertEqual(flow.get("status"), 200, flow)
        self.assertEqual([q["path"] for q in rec.requests], ["/y", "/z"])
        self.assertTrue(all("proxy-authorization" not in q["headers"] for q in rec.requests))
        # CONNECT: a 407 comes back as the response.
        tunnel = self.one({"url": self.https("good", "localhost")},
                          options={"https_proxy": self.auth_proxy.url, "ca_file": self.tls["ca.pem"]})
        self.assertEqual(tunnel.get("status"), 407, tunnel)
        tunnel_ok = self.one({"url": self.https("good", "localhost")},
                             options={"https_proxy": self.auth_proxy.url, "ca_file": self.tls["ca.pem"]},
                             auth={"kind": "static_header", "name": "Proxy-Authorization",
                                   "value": "Basic YWxpY2U6czNjcmV0"})
        self.assertEqual(tunnel_ok.get("status"), 200, tunnel_ok)

    def test_proxy_authorization_never_reaches_an_origin_directly(self):
        with RecordingServer() as rec:
            self.one({"url": rec.url + "/", "headers": [["Proxy-Authorization", "Basic eDp5"]]})
        self.assertNotIn("proxy-authorization", rec.requests[0]["headers"])

    # ---------------------------------------------------------------- the example
    def test_example_client_get(self):
        example = gh.require_file(os.path.join(os.path.dirname(gh.EXAMPLE_BIN), "client_get"),
                                  "examples/client_get")
        with RecordingServer() as rec:
            proc = subprocess.run([example, rec.url + "/hello"], capture_output=True, text=True,
                                  timeout=60, env=gh.clean_env())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("sync: 200 OK", proc.stdout)
        self.assertIn("async: 200 OK", proc.stdout)
        self.assertEqual([q["headers"].get("x-example") for q in rec.requests],
                         ["client_get", "async"])


if __name__ == "__main__":
    unittest.main()
