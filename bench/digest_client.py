#!/usr/bin/python3
"""HTTP Digest helper for bench/run.sh (qop=auth; MD5 or SHA-256).

  digest_client.py challenges URL ALGORITHM N     N fresh challenges for ALGORITHM, one a line:
                                                  realm<TAB>nonce<TAB>opaque (bench/digest.lua)
  digest_client.py header URL ALGORITHM USER      one Authorization header value (nc=00000001)
                                                  for a fresh challenge; password on stdin

Each challenge is a separate unauthenticated GET of URL, answered 401 with one Digest challenge
per offered algorithm; the one whose algorithm= matches ALGORITHM is taken (a challenge without
algorithm= means MD5, RFC 7616 §3.3). Exits 1 when the server offers no such challenge.
"""
import hashlib
import re
import secrets
import sys
import urllib.error
import urllib.parse
import urllib.request

HASHES = {"MD5": hashlib.md5, "SHA-256": hashlib.sha256}
PARAM = re.compile(r'\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))\s*,?')


def parse_challenges(values):
    """WWW-Authenticate header values -> list of dicts of Digest parameters (one per challenge)."""
    out = []
    for value in values:
        # A header may hold several challenges; split at each "Digest " token.
        for part in re.split(r"(?:^|,)\s*(?=Digest\s)", value):
            part = part.strip()
            if not part.startswith("Digest "):
                continue
            params = {}
            for m in PARAM.finditer(part[len("Digest "):]):
                v = m.group(2) if m.group(2) is not None else m.group(3)
                params[m.group(1).lower()] = re.sub(r"\\(.)", r"\1", v)
            out.append(params)
    return out


def challenge(url, algorithm):
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            sys.exit(f"digest_client: {url} answered {r.status} without credentials, not 401")
    except urllib.error.HTTPError as e:
        if e.code != 401:
            sys.exit(f"digest_client: {url} answered {e.code}, not 401")
        for c in parse_challenges(e.headers.get_all("WWW-Authenticate") or []):
            if c.get("algorithm", "MD5").upper() == algorithm.upper():
                qops = [q.strip() for q in c.get("qop", "").split(",")]
                if "auth" not in qops:
                    sys.exit(f"digest_client: {url}: the {algorithm} challenge offers no qop=auth")
                return c
    sys.exit(f"digest_client: {url} offers no Digest challenge with algorithm {algorithm}")


def header(url, algorithm, user, password):
    c = challenge(url, algorithm)
    h = HASHES[algorithm.upper()]
    uri = urllib.parse.urlsplit(url).path or "/"
    ha1 = h(f"{user}:{c['realm']}:{password}".encode()).hexdigest()
    ha2 = h(f"GET:{uri}".encode()).hexdigest()
    nc, cnonce = "00000001", secrets.token_hex(8)
    response = h(f"{ha1}:{c['nonce']}:{nc}:{cnonce}:auth:{ha2}".encode()).hexdigest()
    parts = [f'username="{user}"', f'realm="{c["realm"]}"', f'nonce="{c["nonce"]}"', f'uri="{uri}"',
             f"algorithm={c.get('algorithm', 'MD5')}", "qop=auth", f"nc={nc}", f'cnonce="{cnonce}"',
             f'response="{response}"']
    if "opaque" in c:
        parts.append(f'opaque="{c["opaque"]}"')
    return "Digest " + ", ".join(parts)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "challenges":
        _, _, url, algorithm, n = sys.argv
        for _ in range(int(n)):
            c = challenge(url, algorithm)
            print(f"{c['realm']}\t{c['nonce']}\t{c.get('opaque', '')}")
    elif len(sys.argv) == 5 and sys.argv[1] == "header":
        _, _, url, algorithm, user = sys.argv
        print(header(url, algorithm, user, sys.stdin.readline().rstrip("\n")))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
