"""Session sign-in: the cookie's attributes, a new session at each sign-in, sessions the server can end, and
start-up refusing a CORS policy that would never send the cookie."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from {{ cookiecutter.package_name }} import db
from {{ cookiecutter.package_name }}.auth import passwords
from {{ cookiecutter.package_name }}.auth.models import User
from {{ cookiecutter.package_name }}.auth.sessions import UserSession
from {{ cookiecutter.package_name }}.settings import SettingsError

import conftest
from conftest import ALLOWED_ORIGINS, EMAIL, PASSWORD, login

FRONT_END = ALLOWED_ORIGINS[0]


def cookie(response) -> dict[str, str]:
    """The Set-Cookie header's name, value and attributes, attribute names lowercase."""
    (header,) = response.headers.getlist("Set-Cookie")
    first, *attributes = (part.strip() for part in header.split(";"))
    name, _, value = first.partition("=")
    return {"name": name, "value": value, **{a.partition("=")[0].lower(): a.partition("=")[2] for a in attributes}}


def test_the_cookie_is_httponly_samesite_on_every_path_for_the_login_lifetime(api):
    sent = cookie(login(api))
    assert sent["name"] == "session_id"
    assert {"httponly", "path", "samesite", "max-age"} <= set(sent)
    assert (sent["path"], sent["samesite"], sent["max-age"]) == ("/", "Lax", "1209600")
    assert "secure" not in sent  # served over http in development and testing


@pytest.mark.postgres
def test_where_deployed_the_cookie_is_secure_and_host_only(make_app, postgres_url):
    app = conftest.with_tables(
        make_app(**conftest.deployment({**conftest.CREDENTIALED_PRODUCTION, "DATABASE_URL": postgres_url}))
    )
    try:
        with app.app_context():
            db.session().add(User(email=EMAIL, password_hash=passwords.hash_password(PASSWORD)))
            db.session().commit()
        sent = cookie(login(app.test_client()))
    finally:
        conftest.without_tables(app)
    assert sent["name"] == "__Host-session"
    assert "secure" in sent and "domain" not in sent and sent["path"] == "/"


def test_each_sign_in_starts_a_new_session_and_ends_the_one_the_browser_had(api):
    first = cookie(login(api))["value"]
    second = cookie(login(api))["value"]
    assert first != second
    api.set_cookie("session_id", first)
    conftest.assert_json_error(api.get("/api/auth/me", headers={"Origin": FRONT_END}), 401)
    api.set_cookie("session_id", second)
    assert api.get("/api/auth/me", headers={"Origin": FRONT_END}).status_code == 200


def test_the_database_keeps_the_tokens_digest_only(make_signed_up_app):
    app = make_signed_up_app()
    token = cookie(login(app.test_client()))["value"]
    with app.app_context():
        (stored,) = db.session().scalars(select(UserSession.id))
    assert stored == hashlib.sha256(token.encode()).hexdigest() and token not in stored


def test_an_expired_session_is_refused(make_signed_up_app):
    app = make_signed_up_app()
    client = app.test_client()
    login(client)
    with app.app_context():
        db.session().execute(update(UserSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
        db.session().commit()
    conftest.assert_json_error(client.get("/api/auth/me", headers={"Origin": FRONT_END}), 401)


def test_logout_ends_this_browsers_session_only(make_signed_up_app):
    app = make_signed_up_app()
    laptop, phone = app.test_client(), app.test_client()
    login(laptop)
    login(phone)
    logged_out = laptop.post("/api/auth/logout", headers={"Origin": FRONT_END, "Sec-Fetch-Site": "cross-site"})
    assert logged_out.status_code == 204
    assert cookie(logged_out)["max-age"] == "0"
    conftest.assert_json_error(laptop.get("/api/auth/me", headers={"Origin": FRONT_END}), 401)
    assert phone.get("/api/auth/me", headers={"Origin": FRONT_END}).status_code == 200


def test_start_up_refuses_a_policy_without_credentials_for_the_login_routes():
    with pytest.raises(SettingsError) as error:
        conftest.settings_from({"APP_ENV": "testing", "CORS_ORIGINS": FRONT_END, "CORS_ALLOW_CREDENTIALS": "false"})
    assert str(error.value.message).startswith(
        "CORS_ALLOW_CREDENTIALS=false, yet users sign in with a session cookie, which browsers send on credentialed "
        "requests only: set CORS_ALLOW_CREDENTIALS=true"
    )
