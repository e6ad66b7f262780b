"""The FastAPI peer for bench/run.sh: the same three checks gatehouse does, written the way a
typical FastAPI app writes them (fastapi.security helpers, no caching of verified passwords).

  GET /healthz       public
  GET /auth/whoami   X-API-Key (hmac.compare_digest against one key), or
                     Basic checked with bcrypt against an Apache htpasswd file ($2y$, read once at
                     start-up), bcrypt.checkpw on every request

Configured by environment: BENCH_API_KEY, BENCH_API_KEY_USER, BENCH_HTPASSWD.
Run: /usr/bin/python3 -m uvicorn fastapi_app:app --app-dir bench --workers 2 ...
"""
import hmac
import os

import bcrypt
from fastapi import Depends, FastAPI, HTTPException, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyHeader, HTTPBasic, HTTPBasicCredentials

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

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False)
basic = HTTPBasic(auto_error=False, realm="bench")

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
