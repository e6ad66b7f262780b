"""Fixtures for integration tests: the real gatehouse binary on a free port in a temp dir.

Only Debian's python3 modules are used (unittest, subprocess, socket, httpx, requests).
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest

BIN = os.environ.get("GATEHOUSE_BIN", os.path.join(os.path.dirname(__file__), "../../build/release/gatehouse"))
START_TIMEOUT = 20.0


def run_cli(args, data_dir=None, stdin=None, config=None, check=True):
    """Runs `gatehouse ARGS`; returns CompletedProcess (text)."""
    cmd = [BIN] + list(args)
    if data_dir is not None:
        cmd += ["--data", data_dir]
    if config is not None:
        cmd += ["--config", config]
    proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} exited {proc.returncode}: {proc.stderr}")
    return proc


# Failed-login limits that suites not about throttling never reach: they share one server per
# class and log in wrongly on purpose. test_throttle.py passes guard=None (the real defaults) or
# its own [guard] table.
RELAXED_GUARD = "[guard]\nfailed_login_limit = 100000\naddress_failed_login_limit = 100000\n"


class Server:
    """A running `gatehouse serve` on 127.0.0.1:<free port>; use as a context manager."""

    def __init__(self, config_text=None, demo=True, extra_args=(), data_dir=None, guard=RELAXED_GUARD):
        self.tmp = tempfile.mkdtemp(prefix="gatehouse-it-")
        self.data_dir = data_dir or os.path.join(self.tmp, "data")
        self.config_path = None
        if guard is not None and "[guard]" not in (config_text or ""):
            config_text = (config_text or "") + "\n" + guard
        if config_text is not None:
            self.config_path = os.path.join(self.tmp, "gatehouse.toml")
            with open(self.config_path, "w") as f:
                f.write(config_text)
        self.demo = demo
        self.extra_args = list(extra_args)
        self.proc = None
        self.port = None

    def start(self):
        cmd = [BIN, "serve", "--listen", "127.0.0.1:0", "--data", self.data_dir] + self.extra_args
        if self.config_path:
            cmd += ["--config", self.config_path]
        if self.demo and self.config_path:
            cmd += ["--demo"]
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        self.stdout_path = os.path.join(self.tmp, "stdout.log")
        with open(self.stdout_path, "w") as out, open(self.stderr_path, "w") as err:
            self.proc = subprocess.Popen(cmd, stdout=out, stderr=err)  # the child keeps its copies
        # The server prints "listening on http://HOST:PORT" once its sockets are bound.
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"gatehouse exited {self.proc.returncode}: {self.stderr()}")
            m = re.search(r"listening on http://[^:]+:(\d+)", self.stderr())
            if m:
                self.port = int(m.group(1))
                return self
            time.sleep(0.02)
        raise AssertionError("gatehouse did not start: " + self.stderr())

    def stderr(self):
        with open(self.stderr_path) as f:
            return f.read()

    def stdout(self):
        with open(self.stdout_path) as f:
            return f.read()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def cli(self, args, stdin=None, check=True):
        return run_cli(args, data_dir=self.data_dir, stdin=stdin, config=self.config_path, check=check)

    def raw(self, data, timeout=5.0, shutdown=True):
        """Sends raw bytes, returns everything the server answers until it closes or times out."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
            s.sendall(data)
            if shutdown:
                s.shutdown(socket.SHUT_WR)
            chunks = []
            try:
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
            except socket.timeout:
                pass
            return b"".join(chunks)

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode if self.proc else None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)


def status_of(raw_response: bytes) -> int:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw_response)
    return int(m.group(1)) if m else 0


def wait_until(predicate, timeout=5.0, what="condition"):
    """Polls `predicate` until true; for effects with a documented propagation delay."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


# ---- Additions for the test_*.py suites (additive; the helpers above are unchanged) ---------

import json as _json
import threading as _threading

# SPEC §6: a revocation, password change, new key or edited store file reaches the running
# server "within 1 s".
PROPAGATION_S = 1.0
EXAMPLE_BIN = os.environ.get(
    "GATEHOUSE_EXAMPLE_BIN",
    os.path.join(os.path.dirname(__file__), "../../build/release/examples/hello_server"))

APIKEY_CHALLENGE = 'Apikey realm="gatehouse"'
BASIC_CHALLENGE = 'Basic realm="gatehouse", charset="UTF-8"'
BEARER_CHALLENGE = 'Bearer realm="gatehouse"'
API_KEY_RE = re.compile(r"^gh_([0-9a-f]{16})_([0-9a-f]{64})$")


def require_tool(name):
    """The absolute path of a required external tool; fails the test loudly when it is missing."""
    path = shutil.which(name)
    if path is None:
        raise AssertionError(f"required tool '{name}' is not installed (PATH={os.environ.get('PATH')})")
    return path


def require_file(path, what):
    if not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise AssertionError(f"{what} not found or not executable: {path}")
    return path


def clean_env(**extra):
    """The environment for client tools: no proxies, a private HOME-independent config."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env.update(extra)
    return env


def http_client(**kwargs):
    """An httpx.Client that never consults proxy settings."""
    import httpx
    kwargs.setdefault("timeout", 20.0)
    return httpx.Client(trust_env=False, **kwargs)


def read_all(sock, timeout=5.0):
    """Everything the peer sends until it closes (or resets, or `timeout` passes)."""
    sock.settimeout(timeout)
    chunks = []
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    except (socket.timeout, ConnectionResetError):
        pass
    return b"".join(chunks)


class RawResponse:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # list of (lower-case name, value)
        self.body = body

    def header(self, name):
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name):
        return [v for k, v in self.headers if k == name.lower()]

    def json(self):
        return _json.loads(self.body)

    def __repr__(self):
        return f"RawResponse({self.status}, {self.headers!r}, {self.body[:200]!r})"


def parse_responses(data, head=False):
    """Splits raw bytes into HTTP/1.1 responses (Content-Length framing only)."""
    out = []
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            raise AssertionError(f"incomplete response head: {data[:300]!r}")
        head_lines = data[:end].decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3}) ?(.*)", head_lines[0])
        if not m:
            raise AssertionError(f"not an HTTP response: {data[:300]!r}")
        headers = []
        for line in head_lines[1:]:
            name, _, value = line.partition(":")
            headers.append((name.strip().lower(), value.strip()))
        data = data[end + 4:]
        length = 0
        for name, value in headers:
            if name == "content-length":
                length = int(value)
        if head:
            length = 0
        if len(data) < length:
            raise AssertionError(f"truncated body: want {length}, have {len(data)}")
        out.append(RawResponse(int(m.group(1)), m.group(2), headers, data[:length]))
        data = data[length:]
    return out


def parse_metrics(text):
    """Prometheus text → {(name, frozenset(labels.items())): value}."""
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$', line)
        if not m:
            raise AssertionError(f"malformed metrics line: {line!r}")
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        samples[(m.group(1), frozenset(labels.items()))] = float(m.group(3))
    return samples


def metric(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())), 0.0)


def _server_alive(self):
    return self.proc is not None and self.proc.poll() is None


def _server_connect(self, timeout=5.0):
    return socket.create_connection(("127.0.0.1", self.port), timeout=timeout)


def _server_metrics(self):
    with http_client() as c:
        r = c.get(self.url + "/metrics")
    if r.status_code != 200:
        raise AssertionError(f"/metrics answered {r.status_code}")
    return parse_metrics(r.text)


def _server_create_key(self, user, *args):
    """`gatehouse apikey create USER ARGS...` → (key, id)."""
    proc = self.cli(["apikey", "create", user] + list(args))
    key = proc.stdout.strip()
    m = API_KEY_RE.match(key)
    if not m:
        raise AssertionError(f"apikey create printed {proc.stdout!r}")
    return key, m.group(1)


def _server_data_bytes(self):
    """The bytes of every file in the data directory (database, WAL, ...)."""
    blobs = {}
    for name in os.listdir(self.data_dir):
        path = os.path.join(self.data_dir, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                blobs[name] = f.read()
    return blobs


Server.alive = _server_alive
Server.connect = _server_connect
Server.metrics = _server_metrics
Server.create_key = _server_create_key
Server.data_bytes = _server_data_bytes


def status(url, auth=None, headers=None, params=None):
    """The status code of a GET with httpx (auth: (user, password) or None)."""
    with http_client() as c:
        return c.get(url, auth=auth, headers=headers, params=params).status_code


def wait_status(url, expected, timeout=PROPAGATION_S, **kwargs):
    """Waits until GET url answers `expected` (for documented propagation delays)."""
    last = []

    def ok():
        last[:] = [status(url, **kwargs)]
        return last[0] == expected

    try:
        wait_until(ok, timeout=timeout, what=f"GET {url} → {expected}")
    except AssertionError:
        raise AssertionError(f"GET {url} did not answer {expected} within {timeout}s "
                             f"(last: {last[0] if last else None})")


def in_threads(functions):
    """Runs each callable in its own thread, released together; returns results (or exceptions)."""
    results = [None] * len(functions)
    barrier = _threading.Barrier(len(functions))

    def run(i, fn):
        barrier.wait()
        try:
            results[i] = fn()
        except BaseException as e:  # reported by the caller
            results[i] = e

    threads = [_threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(functions)]
    for t in threads:
        t.start()
    return threads, results


def _server_exchange(self, data, timeout=5.0):
    """Like raw(), but tolerates the server closing (even with RST) before all was sent, as it
    may after answering 413/431 early: returns whatever response bytes arrived."""
    with socket.create_connection(("127.0.0.1", self.port), timeout=timeout) as s:
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        return read_all(s, timeout=timeout)


Server.exchange = _server_exchange
