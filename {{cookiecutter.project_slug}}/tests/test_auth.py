"""Signing in over HTTP, as a front end does it: login, the signed-in user, logout, a new password, wrong
passwords, unknown accounts, the guessing limits, and a cross-site login refused by the write check."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, profiles

from {{ cookiecutter.package_name }}.auth import passwords

import conftest
from conftest import ALLOWED_ORIGINS, EMAIL, PASSWORD, cors_headers, login

FRONT_END = ALLOWED_ORIGINS[0]
STRANGER = "https://evil.example.net"


def signed_in_headers(signed_in) -> dict[str, str]:
    """What the front end sends on its next calls: its Origin, and its credentials (conftest.credentials_of)."""
    return {"Origin": FRONT_END, **conftest.credentials_of(signed_in)}


def test_a_user_signs_in_is_known_and_signs_out(api):
    signed_in = login(api)
    assert signed_in.status_code == 200, signed_in.json
    assert signed_in.json["user"]["email"] == EMAIL
    assert cors_headers(signed_in)["Access-Control-Allow-Origin"] == FRONT_END
    headers = signed_in_headers(signed_in)
    assert api.get("/api/auth/me", headers=headers).json["email"] == EMAIL
    assert api.post("/api/auth/logout", headers={**headers, "Sec-Fetch-Site": "cross-site"}).status_code == 204
    conftest.assert_json_error(api.get("/api/auth/me", headers=headers), 401)


def test_the_address_is_matched_whatever_its_case(api):
    assert login(api, email=EMAIL.upper()).status_code == 200


def test_a_wrong_password_and_an_unknown_account_get_the_same_answer(api):
    wrong_password = login(api, password="not the passphrase")
    unknown_account = login(api, email="nobody@example.com")
    conftest.assert_json_error(wrong_password, 401)
    assert wrong_password.json == unknown_account.json
    assert wrong_password.headers.get("Set-Cookie") is None and unknown_account.headers.get("Set-Cookie") is None


def test_an_unknown_account_costs_a_password_check_like_a_known_one(api, monkeypatch):
    """Same time for both: the unknown one is checked against a hash of no one's password."""
    checked = []

    class Counting(PasswordHasher):
        def verify(self, hash: str, password: str) -> bool:
            checked.append(hash)
            return super().verify(hash, password)

    monkeypatch.setattr(passwords, "hasher", Counting.from_parameters(profiles.CHEAPEST))
    login(api, password="not the passphrase")
    login(api, email="nobody@example.com")
    assert len(checked) == 2 and all(hash_.startswith("$argon2id$") for hash_ in checked)


def test_a_route_needing_a_user_refuses_a_request_without_one(api):
    response = api.get("/api/auth/me", headers={"Origin": FRONT_END})
    conftest.assert_json_error(response, 401)
    assert cors_headers(response)["Access-Control-Allow-Origin"] == FRONT_END
{%- if cookiecutter.auth == "token" %}
    assert response.headers["WWW-Authenticate"].lower() == "bearer"
{%- endif %}


@pytest.mark.parametrize(
    ("body", "field"),
    [({"email": "ada@example.com"}, "password"), ({"email": "not an address", "password": "x"}, "email")],
)
def test_a_malformed_login_names_the_field(api, body, field):
    response = api.post("/api/auth/login", json=body, headers={"Origin": FRONT_END})
    assert response.status_code == 422
    assert field in response.json["error"]["fields"]


def test_an_account_is_refused_with_429_after_its_guesses_even_the_right_password(api):
    limit = 5
    for _ in range(limit):
        conftest.assert_json_error(login(api, password="a wrong guess"), 401)
    refused = login(api)
    assert refused.status_code == 429
    assert refused.json["error"]["status"] == 429
    assert 0 < int(refused.headers["Retry-After"]) <= 900
    # The page can read why: the policy's CORS headers are on the refusal too.
    assert cors_headers(refused)["Access-Control-Allow-Origin"] == FRONT_END


def test_an_address_is_refused_after_its_guesses_at_many_accounts(make_signed_up_app):
    client = make_signed_up_app(LOGIN_ATTEMPTS_PER_ADDRESS="3").test_client()
    for number in range(3):
        login(client, email=f"guess{number}@example.com")
    assert login(client).status_code == 429


def test_a_successful_login_forgets_the_accounts_earlier_failures(api):
    for _ in range(4):
        login(api, password="a wrong guess")
    assert login(api).status_code == 200
    for _ in range(4):
        login(api, password="a wrong guess")
    assert login(api).status_code == 200


def test_a_login_posted_from_an_origin_the_policy_refuses_is_a_403_before_any_check(api):
    response = login(api, origin=STRANGER)
    conftest.assert_json_error(response, 403)
    assert "Access-Control-Allow-Origin" not in cors_headers(response)
    assert response.headers.get("Set-Cookie") is None


def test_the_login_preflight_is_answered_for_a_listed_origin_only(api):
    asked = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    allowed = api.options("/api/auth/login", headers={"Origin": FRONT_END, **asked})
    refused = api.options("/api/auth/login", headers={"Origin": STRANGER, **asked})
    assert cors_headers(allowed)["Access-Control-Allow-Origin"] == FRONT_END
    assert "Access-Control-Allow-Origin" not in cors_headers(refused)


def test_a_new_password_signs_the_user_out_everywhere(make_signed_up_app):
    app = make_signed_up_app()
    laptop, phone = app.test_client(), app.test_client()
    on_laptop, on_phone = signed_in_headers(login(laptop)), signed_in_headers(login(phone))
    change = {"current_password": PASSWORD, "new_password": "another long passphrase"}
    changed = laptop.put("/api/auth/password", json=change, headers={**on_laptop, "Sec-Fetch-Site": "cross-site"})
    assert changed.status_code == 204
    conftest.assert_json_error(laptop.get("/api/auth/me", headers=on_laptop), 401)
    conftest.assert_json_error(phone.get("/api/auth/me", headers=on_phone), 401)
    assert login(phone, password="another long passphrase").status_code == 200


def test_a_new_password_needs_the_current_one(api):
    headers = {**signed_in_headers(login(api)), "Sec-Fetch-Site": "cross-site"}
    change = {"current_password": "a wrong guess", "new_password": "another long passphrase"}
    conftest.assert_json_error(api.put("/api/auth/password", json=change, headers=headers), 403)
    assert api.get("/api/auth/me", headers=headers).status_code == 200


def test_a_short_new_password_is_refused_naming_the_field(api):
    headers = {**signed_in_headers(login(api)), "Sec-Fetch-Site": "cross-site"}
    change = {"current_password": PASSWORD, "new_password": "short"}
    response = api.put("/api/auth/password", json=change, headers=headers)
    assert response.status_code == 422
    assert "new_password" in response.json["error"]["fields"]


def test_flask_users_create_reads_the_password_without_echo_and_refuses_a_second_account(make_database_app):
    app = make_database_app(CORS_ORIGINS=FRONT_END)
    runner = app.test_cli_runner()
    created = runner.invoke(args=["users", "create", "Grace@Example.com"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert created.exit_code == 0, created.output
    assert PASSWORD not in created.output
    assert login(app.test_client(), email="grace@example.com").status_code == 200
    again = runner.invoke(args=["users", "create", "grace@example.com"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert again.exit_code == 1
    assert "grace@example.com has an account already" in again.output


def test_flask_users_refuses_a_short_password(make_database_app):
    runner = make_database_app(CORS_ORIGINS=FRONT_END).test_cli_runner()
    result = runner.invoke(args=["users", "create", "x@example.com"], input="short\nshort\n")
    assert result.exit_code == 2
    assert "use 12 characters or more" in result.output


def test_flask_users_set_password_signs_the_account_out_everywhere(make_signed_up_app):
    app = make_signed_up_app()
    client = app.test_client()
    headers = signed_in_headers(login(client))
    new = "another long passphrase"
    result = app.test_cli_runner().invoke(args=["users", "set-password", EMAIL], input=f"{new}\n{new}\n")
    assert result.exit_code == 0, result.output
    conftest.assert_json_error(client.get("/api/auth/me", headers=headers), 401)
    assert login(client, password=new).status_code == 200
