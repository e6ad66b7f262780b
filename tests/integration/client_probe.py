"""Helpers for client tests: the gatehouse_client_probe driver and small loopback peers.

run_probe(doc) feeds a JSON script to tests/client_probe/probe.cpp (its format is documented at
the top of that file) and returns the parsed output. The peers are in-process threads on
127.0.0.1 and free ports: RecordingServer (scripted HTTP answers, records every request and the
connection it came on), ConnectionCounter (a TCP relay that counts the connections it accepts),
SilentServer (accepts and never answers), and TLS material made with openssl.
"""
import http.server
import json
import os
import socket
import socketserver
import subprocess
import threading
import time

import gh

PROBE = os.environ.get(
    "GATEHOUSE_CLIENT_PROBE",
    os.path.join(os.path.dirname(__file__), "../../build/release/tests/gatehouse_client_probe"))


def run_probe(doc, env=None, timeout=120):
    """Runs the probe on `doc` (a dict); returns its output (a dict). env: extra variables on a
    proxy-free environment."""
    gh.require_file(PROBE, "gatehouse_client_probe (GATEHOUSE_CLIENT_PROBE)")
    proc = subprocess.run([PROBE], input=json.dumps(doc), capture_output=True, text=True,
                          timeout=timeout, env=gh.clean_env(**(env or {})))
    if proc.returncode != 0:
        raise AssertionError(f"probe exited {proc.returncode}: {proc.stderr}")
    out = json.loads(proc.stdout)
    out["stderr"] = proc.stderr
    return out


def header(result, name):
    """The first value of header `name` in a probe result, or None."""
    for n, v in result.get("headers", []):
        if n.lower() == name.lower():
            return v
    return None


def free_port(udp_too=False):
    """A port free for TCP (and UDP when asked) on 127.0.0.1."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not udp_too:
            return port
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
    raise AssertionError("no free port")


def _tail(log_path):
    if log_path is None:
        return ""
    try:
        with open(log_path) as f:
            return ": " + f.read()[-3000:]
    except OSError:
        return ""


def wait_listening(port, proc, what, timeout=20.0, log_path=None):
    """Waits until `proc` (a peer started by the test) accepts TCP on 127.0.0.1:`port`; fails
    with the end of `log_path` when it exits or does not listen within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{what} exited with {proc.returncode}{_tail(log_path)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.02)
    raise AssertionError(f"{what} did not listen on {port}{_tail(log_path)}")


def stop_process(proc, timeout=20):
    """SIGTERM, then SIGKILL after `timeout` seconds; a process that already ended is left."""
    if proc is not None and proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class RecordingServer:
    """HTTP/1.1 server on 127.0.0.1: `routes` maps a path to fn(handler) -> (status, headers,
    body); unknown paths answer 200 "ok". Every request is recorded as a dict: method, path,
    headers (lower-case names → value), body, conn (the client's port: one per connection)."""

    def __init__(self, routes=None):
        self.routes = routes or {}
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("latin-1") if length else ""
                with outer.lock:
                    outer.requests.append({
                        "method": self.command, "path": self.path, "body": body,
                        "headers": {k.lower(): v for k, v in self.headers.items()},
                        "conn": self.client_address[1]})
                route = outer.routes.get(self.path.split("?")[0])
                status, headers, payload = route(self) if route else (200, {}, "ok")
                payload = payload.encode() if isinstance(payload, str) else payload
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = do_PATCH = handle_one

        class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


class ConnectionCounter:
    """A TCP relay 127.0.0.1:port → target port that counts accepted connections."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.accepted = 0
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stop = False
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while not self.stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop = True
        self.listener.close()


class SilentServer:
    """Accepts connections, reads what comes, never answers; or, with `reply`, sends those bytes
    after the request head and closes."""

    def __init__(self, reply=None):
        self.reply = reply
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        data = b""
        try:
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                data += chunk
            if self.reply is not None:
                conn.sendall(self.reply)
                conn.close()
        except OSError:
            pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.listener.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def make_tls_material(directory):
    """A CA, a cert for DNS:localhost + IP:127.0.0.1 and one for DNS:other.example, both signed by
    the CA, and a self-signed localhost cert. Returns a dict of paths."""
    openssl = gh.require_tool("openssl")
    p = {name: os.path.join(directory, name) for name in (
        "ca.key", "ca.pem", "localhost.key", "localhost.pem", "other.key", "other.pem",
        "self.key", "self.pem")}

    def run(*args):
        subprocess.run([openssl, *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p["ca.key"], "-out", p["ca.pem"],
        "-days", "2", "-subj", "/CN=gatehouse test CA",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign")
    for name, san in (("localhost", "DNS:localhost,IP:127.0.0.1"), ("other", "DNS:other.example")):
        csr = os.path.join(directory, name + ".csr")
        ext = os.path.join(directory, name + ".ext")
        with open(ext, "w") as f:
            f.write(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n")
        run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p[name + ".key"], "-out", csr,
            "-subj", f"/CN={name}")
        run("x509", "-req", "-in", csr, "-CA", p["ca.pem"], "-CAkey", p["ca.key"],
            "-CAcreateserial", "-out", p[name + ".pem"], "-days", "2", "-extfile", ext)
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p["self.key"], "-out", p["self.pem"],
        "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
    return p
