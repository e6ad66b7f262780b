#!/usr/bin/python3
"""Turns the wrk outputs bench/run.sh wrote into the table and the target ratios (docs/perf.md).

  bench/report.py bench/results/<stamp>
"""
import pathlib
import re
import sys

ROWS = [
    ("gatehouse_public", "gatehouse  GET /healthz (public)"),
    ("gatehouse_apikey", "gatehouse  /auth/whoami X-API-Key"),
    ("gatehouse_bearer_eddsa", "gatehouse  /auth/whoami Bearer (EdDSA, cached) ***"),
    ("gatehouse_basic_argon2id_db", "gatehouse  /auth/whoami Basic, argon2id db user *"),
    ("gatehouse_basic_bcrypt_htpasswd", "gatehouse  /auth/whoami Basic, bcrypt htpasswd *"),
    ("gatehouse_digest_md5", "gatehouse  /auth/whoami Digest MD5 htdigest **"),
    ("gatehouse_digest_sha256", "gatehouse  /auth/whoami Digest SHA-256 htdigest **"),
    ("gatehouse_refresh_sqlite", "gatehouse  POST /auth/refresh, durable (SQLite) ****"),
    ("gatehouse_xmlrpc_display_basic", "gatehouse  XML-RPC display issue1, Basic (cached)"),
    ("gatehouse_xmlrpc_display_bearer", "gatehouse  XML-RPC display issue1, Bearer"),
    ("gatehouse_rest_item_basic", "gatehouse  REST GET issue/1, Basic (cached)"),
    ("gatehouse_rest_item_bearer", "gatehouse  REST GET issue/1, Bearer"),
    ("nginx_return200", "nginx      return 200 (public)"),
    ("nginx_auth_basic_bcrypt", "nginx      auth_basic, bcrypt htpasswd"),
    ("apache_digest_md5", "apache     mod_auth_digest MD5 htdigest **"),
    ("uvicorn_public", "uvicorn    GET /healthz (public)"),
    ("uvicorn_apikey", "uvicorn    /auth/whoami X-API-Key"),
    ("uvicorn_bearer_pyjwt", "uvicorn+PyJWT Bearer (EdDSA, same token) ***"),
    ("uvicorn_basic_bcrypt", "uvicorn    /auth/whoami Basic, bcrypt"),
]

# (gatehouse row, peer row, what, minimum ratio of requests/s)
THROUGHPUT_TARGETS = [
    ("gatehouse_public", "nginx_return200", "public vs nginx return 200", 1.0),
    ("gatehouse_apikey", "nginx_return200", "API key vs nginx return 200", 1.0),
    ("gatehouse_bearer_eddsa", "nginx_return200", "Bearer (cached) vs nginx return 200", 0.9),
    ("gatehouse_bearer_eddsa", "uvicorn_bearer_pyjwt", "Bearer vs uvicorn+PyJWT Bearer", 10.0),
    ("gatehouse_basic_bcrypt_htpasswd", "nginx_auth_basic_bcrypt",
     "Basic bcrypt htpasswd vs nginx auth_basic", 50.0),
    ("gatehouse_digest_md5", "apache_digest_md5", "Digest MD5 vs Apache Digest MD5", 5.0),
    ("gatehouse_digest_sha256", "apache_digest_md5", "Digest SHA-256 vs Apache Digest MD5", 5.0),
    ("gatehouse_public", "uvicorn_public", "public vs uvicorn public", 6.0),
    ("gatehouse_apikey", "uvicorn_apikey", "API key vs uvicorn API key", 6.0),
    ("gatehouse_basic_argon2id_db", "uvicorn_basic_bcrypt",
     "Basic argon2id db vs uvicorn Basic", 6.0),
    ("gatehouse_basic_bcrypt_htpasswd", "uvicorn_basic_bcrypt",
     "Basic bcrypt htpasswd vs uvicorn Basic", 6.0),
]
# (gatehouse row, nginx row, what): gatehouse p99 / nginx p99, lower is better
P99_COMPARISONS = [
    ("gatehouse_public", "nginx_return200", "public vs nginx return 200"),
    ("gatehouse_apikey", "nginx_return200", "API key vs nginx return 200"),
    ("gatehouse_bearer_eddsa", "nginx_return200", "Bearer (cached) vs nginx return 200"),
    ("gatehouse_basic_bcrypt_htpasswd", "nginx_auth_basic_bcrypt",
     "Basic bcrypt htpasswd vs nginx auth_basic"),
]

# (row, what, minimum requests/s): absolute targets
ABSOLUTE_TARGETS = [
    ("gatehouse_refresh_sqlite", "refresh rotations/s, durable, SQLite store", 2000.0),
    ("gatehouse_xmlrpc_display_basic", "XML-RPC display calls/s, Basic (cached)", 10000.0),
    ("gatehouse_xmlrpc_display_bearer", "XML-RPC display calls/s, Bearer", 10000.0),
]

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNIT_MS[m.group(2)] if m else None


def parse(path):
    r = {"rps": None, "p50": None, "p99": None, "requests": 0, "non2xx": 0, "errors": 0}
    if not path.exists():
        return r
    text = path.read_text(errors="replace")
    if m := re.search(r"^Requests/sec:\s+([\d.]+)", text, re.M):
        r["rps"] = float(m.group(1))
    for pct in ("50", "99"):
        if m := re.search(rf"^\s+{pct}%\s+(\S+)", text, re.M):
            r["p" + pct] = to_ms(m.group(1))
    if m := re.search(r"^\s*(\d+) requests in", text, re.M):
        r["requests"] = int(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text):
        r["non2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text):
        r["errors"] = sum(int(x) for x in m.groups())
    r["valid"] = r["rps"] is not None and r["requests"] > 0 and r["non2xx"] == 0
    return r


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v * 1000:.0f} us" if v < 1 else f"{v:.2f} ms" if v < 1000 else f"{v / 1000:.2f} s"


def main():
    d = pathlib.Path(sys.argv[1])
    res = {name: parse(d / f"{name}.wrk.txt") for name, _ in ROWS}
    env = (d / "env.txt").read_text() if (d / "env.txt").exists() else ""
    out = []
    out.append(env.rstrip())
    if m := re.search(r"^load_before: ([\d.]+)", env, re.M):
        if float(m.group(1)) > 0.5:
            out.append(f"WARNING: load average {m.group(1)} at the start: other processes shared the"
                       " cores during this run")
    out.append("")
    out.append(f"{'row':<52} {'requests/s':>11} {'p50':>10} {'p99':>10}  notes")
    out.append("-" * 100)
    for name, label in ROWS:
        r = res[name]
        notes = []
        if r["non2xx"]:
            notes.append(f"INVALID: {r['non2xx']} non-2xx")
        if r["errors"]:
            notes.append(f"{r['errors']} socket errors")
        if r["rps"] is None:
            notes.append("no result")
        rps = f"{r['rps']:,.0f}" if r["rps"] is not None else "-"
        out.append(f"{label:<52} {rps:>11} {fmt_ms(r['p50']):>10} {fmt_ms(r['p99']):>10}  "
                   + "; ".join(notes))
    out.append("* after the first request the verified-credential cache answers: no argon2id/bcrypt")
    out.append("  per request (nginx and uvicorn recompute bcrypt on every request).")
    out.append("** qop=auth; each wrk thread reuses its nonces with an increasing nc (bench/digest.lua);")
    out.append("   gatehouse checks nc per nonce, Apache does not (AuthDigestNcCheck Off, its default).")
    out.append("*** the same gatehouse EdDSA access token: gatehouse verifies it once and then serves it")
    out.append("    from its verified-token cache (session revocation and the user checked per request);")
    out.append("    uvicorn verifies signature, exp/nbf/iat, iss, aud and typ with PyJWT on every request.")
    out.append("**** each request presents the refresh token of the previous response in its chain (one")
    out.append("     chain per connection, bench/refresh.lua); each 200 is one rotation committed with")
    out.append("     fsync (WAL, synchronous=FULL).")
    db = d / "gatehouse_refresh_db.txt"
    if db.exists():
        committed = re.search(r"rotations committed: (\d+)", db.read_text())
        revoked = re.search(r"revoked: (\d+)", db.read_text())
        path = d / "gatehouse_refresh_sqlite.wrk.txt"
        lua = re.search(r"refresh.lua: (\d+) chains, (\d+) rotations .*?(\d+) refused, (\d+) unparsed",
                        path.read_text()) if path.exists() else None
        if committed:
            out.append(f"     store after the run: {committed.group(1)} rotations committed in the chains'"
                       f" sessions, {revoked.group(1) if revoked else '?'} sessions revoked"
                       + (f"; wrk saw {lua.group(2)} rotations on {lua.group(1)} chains,"
                          f" {lua.group(3)} refused, {lua.group(4)} unparsed" if lua else ""))
    for name, label in ROWS:
        path = d / f"{name}.wrk.txt"
        if path.exists() and (m := re.search(r"(\d+) requests reused a busy slot", path.read_text())):
            if int(m.group(1)):
                out.append(f"   {name}: {m.group(1)} requests reused a busy nonce slot")
    out.append("")
    out.append(f"{'throughput target (gatehouse / peer, requests/s)':<52} {'ratio':>9} {'target':>8}  met")
    out.append("-" * 80)
    all_met = True
    for gh, peer, what, target in THROUGHPUT_TARGETS:
        a, b = res[gh], res[peer]
        if a["valid"] and b["valid"] and b["rps"]:
            ratio = a["rps"] / b["rps"]
            met = ratio >= target
            all_met &= met
            out.append(f"{what:<52} {ratio:>8.2f}x {'>= ' + format(target, 'g') + 'x':>8}  "
                       f"{'yes' if met else 'NO'}")
        else:
            all_met = False
            out.append(f"{what:<52} {'-':>9} {'>= ' + format(target, 'g') + 'x':>8}  no data")
    for row, what, target in ABSOLUTE_TARGETS:
        r = res[row]
        if r["valid"]:
            met = r["rps"] >= target
            all_met &= met
            out.append(f"{what:<52} {r['rps']:>8,.0f}/s {'>= ' + format(target, ',.0f'):>8}  "
                       f"{'yes' if met else 'NO'}")
        else:
            all_met = False
            out.append(f"{what:<52} {'-':>9} {'>= ' + format(target, ',.0f'):>8}  no data")
    out.append("")
    out.append(f"{'p99 at the same connections (gatehouse / nginx)':<52} {'ratio':>9}  (lower is better)")
    out.append("-" * 80)
    for gh, peer, what in P99_COMPARISONS:
        a, b = res[gh], res[peer]
        if a["p99"] is not None and b["p99"]:
            ratio = a["p99"] / b["p99"]
            out.append(f"{what:<52} {ratio:>8.3g}x  {fmt_ms(a['p99'])} vs {fmt_ms(b['p99'])}")
        else:
            out.append(f"{what:<52} {'-':>9}")
    out.append("")
    out.append("all throughput targets met" if all_met else "NOT all throughput targets met")
    print("\n".join(out))


if __name__ == "__main__":
    main()
