#!/usr/bin/python3
"""The gatehouse client against curl, Python requests and httpx, in one run (docs/perf.md).

    bench/client.py              N=19200 requests per row
    N=1920 bench/client.py       a quick check that every row works

Starts `gatehouse serve` (release build, demo data, relaxed failed-login limits) on a free
127.0.0.1 port in a temp dir, then times the same requests from each client:
  - sequential keep-alive GET /healthz (one connection, one request at a time);
  - sequential Digest GET /auth/whoami (SHA-256, nonce reused with increasing nc where the client
    can: gatehouse, requests; curl answers a new 401 per URL);
  - 64 concurrent keep-alive GET /healthz (gatehouse async_send; httpx.AsyncClient).
The gatehouse client runs through tests' gatehouse_client_probe (one process; the time includes its
start and the JSON it prints). Every row first checks that all responses are 200.
Prints requests/s and the ratio to the gatehouse client; the server shares the 2 cores.
"""
import asyncio
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD", os.path.join(ROOT, "build/release"))
PROBE = os.path.join(BUILD, "tests/gatehouse_client_probe")
N = int(os.environ.get("N", "19200"))  # a multiple of 64
sys.path.insert(0, os.path.join(ROOT, "tests/integration"))
os.environ.setdefault("GATEHOUSE_BIN", os.path.join(BUILD, "gatehouse"))
import gh  # noqa: E402  (the integration fixtures start the server)


def timed(fn):
    start = time.perf_counter()
    statuses = fn()
    elapsed = time.perf_counter() - start
    bad = [s for s in statuses if s != 200]
    if len(statuses) != N or bad:
        raise SystemExit(f"bench: {len(statuses)} responses, {len(bad)} not 200: {bad[:3]}")
    return N / elapsed


def probe(doc):
    out = subprocess.run([PROBE], input=json.dumps(doc), capture_output=True, text=True, check=True)
    return [r.get("status") for r in json.loads(out.stdout)["results"]]


def curl(args, urls):
    with tempfile.NamedTemporaryFile("w", suffix=".curl") as config:
        for url in urls:
            config.write(f'url = "{url}"\noutput = "/dev/null"\n')
        config.flush()
        out = subprocess.run(["curl", "-s", "-w", "%{http_code}\\n", "-K", config.name] + args,
                             capture_output=True, text=True, check=True)
    return [int(line) for line in out.stdout.split()]


def main():
    import httpx
    import requests
    from requests.auth import HTTPDigestAuth

    for tool in (PROBE, shutil.which("curl")):
        if not tool or not os.path.exists(tool):
            raise SystemExit(f"bench: missing {tool or 'curl'} (build the release preset)")
    server = gh.Server(config_text=('[auth]\nschemes = ["digest", "basic", "bearer", "apikey"]\n'
                                    '[auth.digest]\nalgorithms = ["SHA-256"]\nqop = ["auth"]\n'))
    with server:
        base = server.url
        healthz = base + "/healthz"
        whoami = base + "/auth/whoami"
        rows = []

        def seq_requests():
            with requests.Session() as s:
                return [s.get(healthz).status_code for _ in range(N)]

        def seq_httpx():
            with httpx.Client() as c:
                return [c.get(healthz).status_code for _ in range(N)]

        rows.append(("GET /healthz, sequential keep-alive", {
            "gatehouse client": lambda: probe({"requests": [{"url": healthz}] * N}),
            "curl (one process)": lambda: curl([], [healthz] * N),
            "python requests.Session": seq_requests,
            "python httpx.Client": seq_httpx,
        }))

        def digest_requests():
            with requests.Session() as s:
                s.auth = HTTPDigestAuth("demo", "demo")
                return [s.get(whoami).status_code for _ in range(N)]

        rows.append(("Digest SHA-256 GET /auth/whoami, sequential", {
            "gatehouse client": lambda: probe({"auth": {"kind": "digest", "user": "demo",
                                                        "password": "demo"},
                                               "requests": [{"url": whoami}] * N}),
            "curl --digest (one process)": lambda: curl(["--digest", "-u", "demo:demo"],
                                                        [whoami] * N),
            "python requests HTTPDigestAuth": digest_requests,
        }))

        concurrency = 64
        assert N % concurrency == 0, "N must be a multiple of 64"

        def async_httpx():
            async def run():
                limits = httpx.Limits(max_connections=concurrency,
                                      max_keepalive_connections=concurrency)
                async with httpx.AsyncClient(limits=limits) as c:
                    async def chain():
                        return [(await c.get(healthz)).status_code
                                for _ in range(N // concurrency)]
                    chains = await asyncio.gather(*[chain() for _ in range(concurrency)])
                    return [s for chain_statuses in chains for s in chain_statuses]
            return asyncio.run(run())

        rows.append((f"GET /healthz, {concurrency} concurrent (async)", {
            "gatehouse client": lambda: probe({
                "mode": "async", "concurrency": concurrency,
                "options": {"max_idle_connections_per_origin": concurrency},
                "requests": [{"url": healthz}] * (N // concurrency)}),
            "python httpx.AsyncClient": async_httpx,
        }))

        print(f"requests per row: {N}; server: gatehouse (release) on the same 2 cores")
        for title, clients in rows:
            print(f"\n{title}", flush=True)
            results = {name: timed(fn) for name, fn in clients.items()}
            ours = results["gatehouse client"]
            for name, rate in results.items():
                print(f"  {name:34s} {rate:10,.0f} req/s   gatehouse client = {ours / rate:5.2f}x",
                      flush=True)


if __name__ == "__main__":
    main()
