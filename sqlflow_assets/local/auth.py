"""Users and JWT tokens of the local SQLFlow server.

Users are `userId:secretKey` pairs. Tokens are HS256 JWTs shaped like the cloud's
(`aud: gudusoft`, `sub`, `iat`, `exp`), signed with a random key kept in the data dir,
so tokens survive a restart of the same data dir but not a new one. Each token also carries a
fingerprint of the secret it was issued for (`kv`, an HMAC under the signing key), so changing a
user's secret revokes every token issued before, instead of leaving them valid for their TTL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jwt

from sqlflow_assets.errors import AuthError, ConfigError

AUDIENCE = "gudusoft"
USERS_ENV = "SQLFLOW_LOCAL_USERS"
CONFIG_FILE = "config.json"
KEY_FILE = "signing.key"


def read_config(data_dir: Path) -> dict[str, Any]:
    """`<data-dir>/config.json`, or {} when there is none."""
    path = data_dir / CONFIG_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def parse_users(spec: str) -> dict[str, str]:
    """`userId:secretKey[,userId:secretKey...]`; userIds hold `|` and maybe `:`, so split on the last `:`."""
    users: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in spec.split(","))):
        user_id, sep, secret = pair.rpartition(":")
        if not sep or not user_id:
            raise ConfigError(message=f"{USERS_ENV}: expected userId:secretKey, got an entry without ':'")
        users[user_id] = secret
    return users


def load_users(data_dir: Path, environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """Users from config.json, overridden by the environment variable."""
    return {**read_config(data_dir).get("users", {}), **parse_users(environ.get(USERS_ENV, ""))}


def signing_key(data_dir: Path) -> bytes:
    """The data dir's signing key, created once (0600) with an exclusive link so racing starts agree."""
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = data_dir / f".{KEY_FILE}.{secrets.token_hex(8)}"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return path.read_bytes()


class TokenAuthority:
    """Checks secrets, issues tokens and verifies them against the caller's userId."""

    def __init__(self, users: Mapping[str, str], key: bytes, ttl_seconds: int) -> None:
        self._users = dict(users)
        self._key = key
        self._ttl = ttl_seconds

    def issue(self, user_id: str, secret_key: str) -> str:
        """A fresh token for a known user with the right secret."""
        expected = self._users.get(user_id)
        if not user_id or expected is None or not hmac.compare_digest(expected.encode(), secret_key.encode()):
            raise AuthError(message="wrong userId or secretKey")
        now = int(time.time())
        claims = {"sub": user_id, "aud": AUDIENCE, "iat": now, "exp": now + self._ttl, "kv": self._fingerprint(user_id)}
        return jwt.encode(claims, self._key, algorithm="HS256")

    def _fingerprint(self, user_id: str) -> str:
        """Short HMAC of the user's current secret: equal in a token only while the secret is unchanged."""
        message = f"{user_id}\0{self._users[user_id]}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:16]

    def verify(self, user_id: str, token: str) -> None:
        """Accept only an unexpired token of ours whose subject is this (still configured) user."""
        if not user_id or not token:
            raise AuthError(message="userId and token are required")
        try:
            claims = jwt.decode(token, self._key, algorithms=["HS256"], audience=AUDIENCE)
        except jwt.ExpiredSignatureError:
            raise AuthError(message="token expired, generate a new one") from None
        except jwt.InvalidTokenError:
            raise AuthError(message="invalid token") from None
        if claims.get("sub") != user_id or user_id not in self._users:
            raise AuthError(message="token does not belong to this userId")
        if not hmac.compare_digest(str(claims.get("kv", "")), self._fingerprint(user_id)):
            raise AuthError(message="token was issued for an older secretKey, generate a new one")
