"""Users, signing key and tokens of the local server (real objects, no HTTP)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from sqlflow_assets.errors import AuthError
from sqlflow_assets.local.auth import TokenAuthority, load_users, parse_users, signing_key


def test_parse_users_splits_on_the_last_colon() -> None:
    assert parse_users("auth0|abc:s1, google-oauth2|x:y:s2,") == {"auth0|abc": "s1", "google-oauth2|x:y": "s2"}


def test_parse_users_rejects_a_pair_without_colon() -> None:
    with pytest.raises(ValueError, match="userId:secretKey"):
        parse_users("nobody")


def test_env_users_override_config_json(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(json.dumps({"users": {"a|1": "from-config", "b|2": "kept"}}))
    assert load_users(tmp_path, {"SQLFLOW_LOCAL_USERS": "a|1:from-env"}) == {"a|1": "from-env", "b|2": "kept"}


def test_signing_key_is_private_and_stable(tmp_path: Path) -> None:
    key = signing_key(tmp_path / "data")
    assert len(key) == 32 and signing_key(tmp_path / "data") == key
    assert stat.S_IMODE((tmp_path / "data" / "signing.key").stat().st_mode) == 0o600
    assert signing_key(tmp_path / "other") != key


def test_token_round_trip_and_refusals(tmp_path: Path) -> None:
    key = signing_key(tmp_path)
    authority = TokenAuthority({"a|1": "s1", "b|2": "s2"}, key, ttl_seconds=60)
    token = authority.issue("a|1", "s1")
    authority.verify("a|1", token)
    refusals = [
        lambda: authority.issue("a|1", "wrong"),
        lambda: authority.issue("ghost|9", ""),
        lambda: authority.verify("b|2", token),
        lambda: authority.verify("a|1", token.rsplit(".", 1)[0] + ".AAAA"),
        lambda: authority.verify("a|1", ""),
        lambda: TokenAuthority({"b|2": "s2"}, key, ttl_seconds=60).verify("a|1", token),
    ]
    for refuse in refusals:
        with pytest.raises(AuthError):
            refuse()


def test_expired_token_says_so(tmp_path: Path) -> None:
    authority = TokenAuthority({"a|1": "s1"}, signing_key(tmp_path), ttl_seconds=-5)
    with pytest.raises(AuthError, match="expired"):
        authority.verify("a|1", authority.issue("a|1", "s1"))


def test_token_dies_with_the_secret_it_was_issued_for(tmp_path: Path) -> None:
    key = signing_key(tmp_path)
    token = TokenAuthority({"a|1": "old"}, key, ttl_seconds=60).issue("a|1", "old")
    TokenAuthority({"a|1": "old"}, key, ttl_seconds=60).verify("a|1", token)
    with pytest.raises(AuthError, match="older secretKey"):
        TokenAuthority({"a|1": "new"}, key, ttl_seconds=60).verify("a|1", token)
