"""The FastAPI peer for bench/run.sh: the same three checks gatehouse does, written the way a
typical FastAPI app writes them (fastapi.security helpers, no caching of verified passwords).

  GET /healthz       public
  GET /auth/whoami   X-API-Key (hmac.compare_digest against one key), or
                     Basic checked with bcrypt against an Apache htpasswd file ($2y$, read once at
                     start-up), bcrypt.checkpw on every request
  GET /bearer/whoami Authorization: Bearer <gatehouse access token>, verified with PyJWT on every
                     request as a typical Python resource server does: the key picked by the
                     header's "kid" from gatehouse's JWKS (read once at start-up), the signature
                     (EdDSA through python3-cryptography), "exp"/"nbf"/"iat" with 30 s leeway,
                     "iss", "aud" and the header's "typ" (at+jwt, RFC 9068). No cache; no
                     revocation check (gatehouse checks revocation in memory on every request).

Configured by environment: BENCH_API_KEY, BENCH_API_KEY_USER, BENCH_HTPASSWD; for the bearer
route BENCH_JWKS (a file holding gatehouse's /.well-known/jwks.json), BENCH_ISSUER and
BENCH_AUDIENCE (default "gatehouse"). Without BENCH_JWKS the bearer route answers 503.
Run: /usr/bin/python3 -m uvicorn fastapi_app:app --app-dir bench --workers 2 ...
"""
import hmac
import json
import os

import bcrypt
import jwt
from jwt.algorithms import OKPAlgorithm
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import (
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBasic,
    HTTPBasicCredentials,
    HTTPBearer,
)

API_KEY = os.environ["BENCH_API_KEY"].encode()
API_KEY_USER = os.environ.get("BENCH_API_KEY_USER", "alice")


def load_htpasswd(path):
    users = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and ":" in line:
                name, hashed = line.split(":", 1)
                users[name] = hashed.encode()
    return users


USERS = load_htpasswd(os.environ["BENCH_HTPASSWD"])


def load_jwks(path):
    """kid -> public key, for the Ed25519 keys of a JWKS (Debian's PyJWT 2.6: OKPAlgorithm)."""
    if not path:
        return {}
    with open(path, encoding="utf-8") as f:
        jwks = json.load(f)
    return {
        k["kid"]: OKPAlgorithm.from_jwk(json.dumps(k))
        for k in jwks["keys"]
        if k.get("kty") == "OKP" and k.get("alg", "EdDSA") == "EdDSA" and "kid" in k
    }


JWT_KEYS = load_jwks(os.environ.get("BENCH_JWKS", ""))
JWT_ISSUER = os.environ["BENCH_ISSUER"] if JWT_KEYS else ""  # required with BENCH_JWKS
JWT_AUDIENCE = os.environ.get("BENCH_AUDIENCE", "gatehouse")

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
basic = HTTPBasic(auto_error=False, realm="bench")
bearer = HTTPBearer(auto_error=False)

UNAUTHORIZED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="unauthorized",
    headers={"WWW-Authenticate": 'Basic realm="bench", Apikey'},
)


@app.get("/healthz")
async def healthz():
    return {"status": "ok"}


# Async, so the API-key path costs no thread-pool hop; bcrypt (blocking, ~50 ms at cost 10) is
# sent to Starlette's thread pool so it does not stall the event loop.
async def current_user(
    key: str | None = Depends(api_key_header),
    credentials: HTTPBasicCredentials | None = Depends(basic),
):
    if key is not None:
        if hmac.compare_digest(key.encode(), API_KEY):
            return {"user": API_KEY_USER, "scheme": "apikey"}
        raise UNAUTHORIZED
    if credentials is not None:
        hashed = USERS.get(credentials.username)
        if hashed is not None and await run_in_threadpool(
            bcrypt.checkpw, credentials.password.encode(), hashed
        ):
            return {"user": credentials.username, "scheme": "basic"}
        raise UNAUTHORIZED
    raise UNAUTHORIZED


@app.get("/auth/whoami")
async def whoami(who: dict = Depends(current_user)):
    return {"user": who["user"], "scheme": who["scheme"], "roles": ["User"]}


BEARER_UNAUTHORIZED = HTTPException(
    status_code=status.HTTP_401_UNAUTHORIZED,
    detail="invalid_token",
    headers={"WWW-Authenticate": 'Bearer realm="bench", error="invalid_token"'},
)


# Async like current_user: the verification (~80 us of CPU, mostly Ed25519 and PyJWT's JSON and
# base64 work) runs on the event loop, as it does in most FastAPI apps.
async def bearer_user(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)):
    if not JWT_KEYS:
        raise HTTPException(status_code=503, detail="BENCH_JWKS not configured")
    if credentials is None:
        raise BEARER_UNAUTHORIZED
    token = credentials.credentials
    try:
        header = jwt.get_unverified_header(token)
        key = JWT_KEYS.get(header.get("kid"))
        if key is None or header.get("typ", "").lower() not in ("at+jwt", "application/at+jwt"):
            raise BEARER_UNAUTHORIZED
        claims = jwt.decode(
            token,
            key,
            algorithms=["EdDSA"],
            audience=JWT_AUDIENCE,
            issuer=JWT_ISSUER,
            leeway=30,
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except jwt.PyJWTError:
        raise BEARER_UNAUTHORIZED from None
    roles = claims.get("roles", [])
    if not isinstance(claims.get("sub"), str) or not isinstance(roles, list):
        raise BEARER_UNAUTHORIZED
    return {"user": claims["sub"], "scheme": "bearer", "roles": roles, "session": claims.get("sid")}


@app.get("/bearer/whoami")
async def bearer_whoami(who: dict = Depends(bearer_user)):
    return who
