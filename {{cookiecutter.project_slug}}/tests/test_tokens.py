"""Token sign-in: what a token holds, which tokens are refused (expired, unsigned, signed otherwise, for
another audience, revoked), the Authorization preflight, and start-up refusing a policy that forbids it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from {{ cookiecutter.package_name }}.auth import tokens
from {{ cookiecutter.package_name }}.settings import SettingsError

import conftest
from conftest import ALLOWED_ORIGINS, login

FRONT_END = ALLOWED_ORIGINS[0]
STRANGER = "https://evil.example.net"


def me(client, token: str):
    return client.get("/api/auth/me", headers={"Origin": FRONT_END, "Authorization": f"Bearer {token}"})


def test_a_token_is_hs256_for_this_api_and_expires_after_the_login_lifetime(api):
    signed_in = login(api).json
    assert (signed_in["token_type"], signed_in["expires_in"]) == ("Bearer", 900)
    header = jwt.get_unverified_header(signed_in["access_token"])
    claims = jwt.decode(signed_in["access_token"], options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert claims["aud"] == claims["iss"] == tokens.AUDIENCE
    assert claims["exp"] - claims["iat"] == 900
    assert claims["sub"] == str(signed_in["user"]["id"])


def forged(claims: dict, key: str = conftest.SECRET_KEY, algorithm: str = "HS256") -> str:
    now = datetime.now(UTC)
    base = {"sub": "1", "aud": tokens.AUDIENCE, "iss": tokens.ISSUER, "iat": now, "exp": now + timedelta(minutes=5)}
    return jwt.encode({**base, "ver": 0, **claims}, key, algorithm=algorithm)


@pytest.mark.parametrize(
    "token",
    [
        pytest.param(forged({"exp": datetime.now(UTC) - timedelta(seconds=1)}), id="expired"),
        pytest.param(forged({}, key="another-key-0123456789abcdefghijklmnop"), id="signed with another key"),
        pytest.param(forged({"aud": "another-api"}), id="for another audience"),
        pytest.param(forged({"ver": 1}), id="of a revoked version"),
        pytest.param(jwt.encode({"sub": "1", "ver": 0}, None, algorithm="none"), id="alg none"),
        pytest.param("not.a.token", id="not a token"),
    ],
)
def test_a_token_that_is_not_one_of_ours_and_valid_is_refused(api, token):
    login(api)  # the account exists: a refusal is about the token alone
    assert me(api, forged({})).status_code == 200
    conftest.assert_json_error(me(api, token), 401)


def test_logout_ends_every_token_of_the_user(api):
    first, second = login(api).json["access_token"], login(api).json["access_token"]
    headers = {"Origin": FRONT_END, "Authorization": f"Bearer {first}", "Sec-Fetch-Site": "cross-site"}
    assert api.post("/api/auth/logout", headers=headers).status_code == 204
    conftest.assert_json_error(me(api, first), 401)
    conftest.assert_json_error(me(api, second), 401)


@pytest.mark.parametrize(("origin", "allowed"), [(FRONT_END, True), (STRANGER, False)])
def test_the_authorization_preflight_is_allowed_where_the_policy_allows_the_origin(api, origin, allowed):
    asked = {
        "Origin": origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
    }
    headers = conftest.cors_headers(api.options("/api/auth/me", headers=asked))
    assert ("authorization" in headers.get("Access-Control-Allow-Headers", "").lower()) == allowed
    assert (headers.get("Access-Control-Allow-Origin") == origin) == allowed
    assert "Access-Control-Allow-Credentials" not in headers


def test_start_up_refuses_a_policy_that_forbids_the_authorization_header():
    with pytest.raises(SettingsError) as error:
        conftest.settings_from({"APP_ENV": "testing", "CORS_ORIGINS": FRONT_END, "CORS_ALLOW_HEADERS": "Content-Type"})
    assert str(error.value.message).startswith(
        "CORS_ALLOW_HEADERS leaves out Authorization, the header that carries the sign-in token"
    )
    assert 'set CORS_ALLOW_HEADERS="Content-Type, Authorization"' in str(error.value.message)


def test_where_deployed_tokens_need_a_secret_key():
    variables = conftest.deployment({"APP_ENV": "production", "CORS_ORIGINS": FRONT_END})
    del variables["SECRET_KEY"]
    with pytest.raises(SettingsError) as error:
        conftest.settings_from(variables)
    assert str(error.value.message).startswith(
        "SECRET_KEY is required when APP_ENV=production: it signs the sign-in tokens"
    )


def test_credentials_on_beside_tokens_is_a_warning(make_app, caplog):
    with caplog.at_level(logging.WARNING):
        make_app(APP_ENV="testing", CORS_ORIGINS=FRONT_END, CORS_ALLOW_CREDENTIALS="true")
    assert any(
        "CORS_ALLOW_CREDENTIALS=true, yet users sign in with tokens" in record.getMessage() for record in caplog.records
    )
