"""Cross-origin writes over HTTP: what a page at another origin can make the API do, not only read.

The API is in production with credentials on, at https://api.example.com, with a route that changes
state under /api/ and a form route outside it. Each request is sent with the headers a browser sends
for it (Origin, Sec-Fetch-Site); a refused one gets a 403 JSON error and the view never runs.
"""

from __future__ import annotations

import io
import logging

import pytest
from flask import Flask, jsonify, request, session

from {{ cookiecutter.package_name }} import create_app
from {{ cookiecutter.package_name }}.cors import Policy

import conftest

API = "https://api.example.com"
LISTED = conftest.ALLOWED_ORIGINS[0]
REFUSED = "https://evil.example.net"
# Same site as the API (example.com), another origin, and not a listed front end.
SIBLING = "https://blog.example.com"
PRODUCTION = conftest.CREDENTIALED_PRODUCTION
API_WRITE = f"{conftest.TEST_API}/orders"
FORM_WRITE = f"{conftest.TEST_SITE}/account/email"
PUBLIC_WRITE = "/api/public/__tests__/feedback"
EXEMPT = f"{conftest.TEST_SITE}/auth/callback"
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]
# The test client's own address: the proxy, where one is in front.
PROXY = "127.0.0.1"

# What a page's form or fetch() can send without a preflight.
SIMPLE_BODIES = ["form", "text/plain", "multipart"]


def simple_body(kind: str) -> dict:
    """The test client's keyword arguments for a body of `kind`, one of SIMPLE_BODIES."""
    if kind == "form":
        return {"data": {"email": "attacker@evil.example.net"}}
    if kind == "text/plain":
        return {"data": '{"order": 1}', "content_type": "text/plain"}
    return {"data": {"file": (io.BytesIO(b"x"), "x.txt")}, "content_type": "multipart/form-data"}


def writes_app(**variables: str) -> tuple[Flask, list[str]]:
    """The production app with POST/PUT/PATCH/DELETE API_WRITE (under the default policy), POST FORM_WRITE (under
    none) and POST PUBLIC_WRITE; each call a view answers is appended to the list returned."""
    app = create_app(conftest.settings_from({**PRODUCTION, **variables}))
    changes: list[str] = []

    def change():
        changes.append(f"{request.method} {request.path}")
        return jsonify(changed=True)

    app.add_url_rule(API_WRITE, "orders", change, methods=WRITE_METHODS)
    app.add_url_rule(FORM_WRITE, "email", change, methods=["POST"])
    app.add_url_rule(PUBLIC_WRITE, "feedback", change, methods=["POST"])
    return app, changes


@pytest.fixture(scope="module")
def module_writes_app() -> tuple[Flask, list[str]]:
    return writes_app()


@pytest.fixture
def shared_writes_app(module_writes_app) -> tuple[Flask, list[str]]:
    """writes_app(), one for the module's tests that only send it requests, its list of calls emptied for each."""
    app, changes = module_writes_app
    changes.clear()
    return app, changes


def send(app: Flask, method: str, path: str, *, origin=None, fetch_site=None, body="form"):
    """`method` `path` on the API at https://api.example.com, with the browser headers given."""
    headers = {name: value for name, value in (("Origin", origin), ("Sec-Fetch-Site", fetch_site)) if value}
    kwargs = simple_body(body) if method not in ("GET", "HEAD") else {}
    return app.test_client().open(path, method=method, base_url=API, headers=headers, **kwargs)


def assert_refused(response, origin: str | None):
    assert response.status_code == 403
    assert response.json["error"]["status"] == 403
    assert response.json["error"]["detail"].startswith(f"Origin {origin or '(none)'} is not allowed to make changes")
    assert "origin" in conftest.vary(response)


# Each a browser's cross-origin request that must not change anything: (Origin, Sec-Fetch-Site).
CROSS_ORIGIN = {
    "refused-cross-site": (REFUSED, "cross-site"),
    "same-site-sibling": (SIBLING, "same-site"),
    "null-origin": ("null", "cross-site"),
    "older-browser": (REFUSED, None),
    "older-browser-null": ("null", None),
    "no-origin-cross-site": (None, "cross-site"),
}


@pytest.mark.parametrize("body", SIMPLE_BODIES)
@pytest.mark.parametrize(("origin", "fetch_site"), CROSS_ORIGIN.values(), ids=CROSS_ORIGIN.keys())
@pytest.mark.parametrize("path", [API_WRITE, FORM_WRITE])
def test_a_cross_origin_write_the_policy_does_not_allow_is_refused_before_the_view(
    path, origin, fetch_site, body, shared_writes_app
):
    app, changes = shared_writes_app
    assert_refused(send(app, "POST", path, origin=origin, fetch_site=fetch_site, body=body), origin)
    assert changes == []


@pytest.mark.parametrize("method", WRITE_METHODS)
def test_every_unsafe_method_is_checked(method, shared_writes_app):
    app, changes = shared_writes_app
    assert_refused(send(app, method, API_WRITE, origin=REFUSED, fetch_site="cross-site"), REFUSED)
    assert send(app, method, API_WRITE, origin=LISTED, fetch_site="cross-site").status_code == 200
    assert changes == [f"{method} {API_WRITE}"]


# Each a request that must go through: (Origin, Sec-Fetch-Site).
GOES_THROUGH = {
    "same-origin": (API, "same-origin"),
    "typed-in": (None, "none"),
    "older-browser-same-origin": (API, None),
    "curl-webhook-server": (None, None),
}


@pytest.mark.parametrize(("origin", "fetch_site"), GOES_THROUGH.values(), ids=GOES_THROUGH.keys())
@pytest.mark.parametrize("path", [API_WRITE, FORM_WRITE])
def test_the_api_s_own_pages_navigations_and_non_browser_clients_write(path, origin, fetch_site, shared_writes_app):
    app, changes = shared_writes_app
    assert send(app, "POST", path, origin=origin, fetch_site=fetch_site).status_code == 200
    assert changes == [f"POST {path}"]


@pytest.mark.parametrize("fetch_site", ["cross-site", None])
def test_a_listed_front_end_writes_under_its_policy_and_reads_the_answer(fetch_site):
    app, changes = writes_app()
    response = send(app, "POST", API_WRITE, origin=LISTED, fetch_site=fetch_site)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == LISTED
    assert changes == [f"POST {API_WRITE}"]


def test_outside_every_policy_the_default_policys_front_ends_may_write():
    """No policy covers FORM_WRITE: the site's own front ends (the default policy's) may post its forms,
    other pages may not, and no answer carries a CORS header."""
    app, changes = writes_app()
    listed = send(app, "POST", FORM_WRITE, origin=LISTED, fetch_site="cross-site")
    assert listed.status_code == 200
    assert "Access-Control-Allow-Origin" not in listed.headers
    assert_refused(send(app, "POST", FORM_WRITE, origin=REFUSED, fetch_site="cross-site"), REFUSED)
    assert changes == [f"POST {FORM_WRITE}"]


def test_the_public_policy_is_read_only_and_its_refusal_is_readable():
    """Every origin may read /api/public/: the 403 carries its `*`, so a page can show why."""
    app, changes = writes_app()
    response = send(app, "POST", PUBLIC_WRITE, origin=LISTED, fetch_site="cross-site")
    assert_refused(response, LISTED)
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert changes == []


def test_a_refusal_gives_a_refused_origin_no_cors_header():
    response = send(writes_app()[0], "POST", API_WRITE, origin=REFUSED, fetch_site="cross-site")
    assert not [name for name, _ in response.headers if name.startswith("Access-Control-")]


@pytest.mark.parametrize("origin", [REFUSED, SIBLING, "null", LISTED])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_read_is_never_refused(origin, method):
    app, _ = writes_app()
    app.add_url_rule(f"{conftest.TEST_SITE}/account/profile", "profile", lambda: jsonify(name="Ada"))
    for path in ("/api/health", f"{conftest.TEST_SITE}/account/profile"):
        assert send(app, method, path, origin=origin, fetch_site="cross-site").status_code == 200


def test_a_preflight_is_not_refused_as_a_write_but_answered_by_cors():
    """OPTIONS is safe: the CORS layer answers it, allowing the listed origin and not the refused one."""
    client = writes_app()[0].test_client()
    for origin, allowed in ((REFUSED, None), (LISTED, LISTED)):
        preflight = {"Origin": origin, "Access-Control-Request-Method": "POST", "Sec-Fetch-Site": "cross-site"}
        response = client.options(API_WRITE, base_url=API, headers=preflight)
        assert response.status_code == 204
        assert response.headers.get("Access-Control-Allow-Origin") == allowed


def test_dynamic_origins_are_trusted_like_listed_ones():
    tenant = "https://shop.tenant.example"
    declarations = (Policy("default", "/api/", dynamic_origins=lambda origin: origin == tenant),)
    app = create_app(conftest.settings_from(PRODUCTION, declarations=declarations))
    app.add_url_rule(API_WRITE, "orders", lambda: jsonify(changed=True), methods=["POST"])
    assert send(app, "POST", API_WRITE, origin=tenant, fetch_site="cross-site").status_code == 200
    assert_refused(send(app, "POST", API_WRITE, origin=REFUSED, fetch_site="cross-site"), REFUSED)


@pytest.mark.parametrize(
    ("path", "exempt"),
    [(EXEMPT, True), (f"{EXEMPT}/saml", True), (f"{EXEMPT}-admin", False), (EXEMPT.rsplit("/", 1)[0], False)],
)
def test_exempt_paths_accept_posts_from_any_site(path, exempt):
    app, _ = writes_app(CROSS_SITE_WRITE_EXEMPT_PATHS=EXEMPT)
    app.add_url_rule(path, "callback", lambda: jsonify(signed_in=True), methods=["POST"])
    response = send(app, "POST", path, origin="https://login.identity.example", fetch_site="cross-site")
    assert response.status_code == (200 if exempt else 403)


def test_no_path_is_exempt_by_default():
    assert writes_app()[0].extensions["cors"].writes.exempt_paths == ()


@pytest.mark.parametrize(
    ("hops", "status"),
    [(1, 200), (0, 403)],
    ids=["proxy-trusted", "forwarded-headers-ignored"],
)
def test_behind_a_proxy_that_rewrites_host_the_own_origin_is_the_one_the_client_asked_for(hops, status):
    """A proxy sends Host: backend:8000 and the client's host and scheme in X-Forwarded-*: an older
    browser's same-origin POST (Origin, no Sec-Fetch-Site) is the API's own once they are believed."""
    app, _ = writes_app(TRUSTED_PROXY_HOPS=str(hops), TRUSTED_PROXIES=PROXY if hops else "")
    proxied = {"Origin": API, "X-Forwarded-Host": "api.example.com", "X-Forwarded-Proto": "https"}
    response = app.test_client().post(API_WRITE, base_url="http://backend:8000", headers=proxied)
    assert response.status_code == status


def test_behind_a_proxy_a_forwarded_host_does_not_make_a_foreign_origin_the_own():
    app, changes = writes_app(TRUSTED_PROXY_HOPS="1", TRUSTED_PROXIES=PROXY)
    proxied = {"Origin": REFUSED, "X-Forwarded-Host": "api.example.com", "X-Forwarded-Proto": "https"}
    assert_refused(app.test_client().post(API_WRITE, base_url="http://backend:8000", headers=proxied), REFUSED)
    assert changes == []


def test_a_refusal_is_logged_escaped_and_throttled(caplog):
    """The test client refuses a header value with a newline: it goes straight into the WSGI environ."""
    client = writes_app()[0].test_client()
    forged = {"HTTP_ORIGIN": f"{REFUSED}\r\nforged line", "HTTP_SEC_FETCH_SITE": "cross-site"}
    for _ in range(3):
        assert client.post(API_WRITE, base_url=API, environ_overrides=forged).status_code == 403
    lines = [record for record in caplog.records if record.name.endswith("cors.writes")]
    assert len(lines) == 1
    assert lines[0].levelno == logging.WARNING
    assert lines[0].getMessage() == (
        f'Cross-origin write refused, origin "{REFUSED}\\r\\nforged line": POST {API_WRITE}, '
        "Sec-Fetch-Site: cross-site, APP_ENV=production"
    )


LOGIN = f"{conftest.TEST_SITE}/login"
ME = f"{conftest.TEST_API}/me"


def session_app(**variables: str) -> Flask:
    """An app whose POST LOGIN puts the user in Flask's session, and GET ME reads it."""
    app = create_app(conftest.settings_from(variables))

    def login():
        session["user"] = "ada"
        return jsonify(signed_in=True)

    app.add_url_rule(LOGIN, "login", login, methods=["POST"])
    app.add_url_rule(ME, "me", lambda: jsonify(user=session.get("user")))
    return app


@pytest.mark.parametrize(
    ("variables", "attributes"),
    [
        (PRODUCTION, {"Secure", "HttpOnly", "SameSite=Lax"}),
        ({**PRODUCTION, "SESSION_COOKIE_SAMESITE": "None"}, {"Secure", "HttpOnly", "SameSite=None"}),
        ({**PRODUCTION, "SESSION_COOKIE_SAMESITE": "Strict"}, {"Secure", "HttpOnly", "SameSite=Strict"}),
        ({"APP_ENV": "development"}, {"HttpOnly", "SameSite=Lax"}),
    ],
    ids=["production", "production-none", "production-strict", "development"],
)
def test_the_session_cookie_is_secure_where_deployed_httponly_and_samesite(variables, attributes):
    client = session_app(**variables).test_client()
    response = client.post(LOGIN, base_url=API)
    cookie = {part.strip() for part in response.headers["Set-Cookie"].split(";")[1:]}
    assert {part for part in cookie if part in ("Secure", "HttpOnly") or part.startswith("SameSite")} == attributes
    assert client.get(ME, base_url=API).json == {"user": "ada"}


def test_a_session_works_in_development_without_a_secret_key():
    """Development makes one up for the process, so a login route answers instead of failing with 500."""
    client = session_app(APP_ENV="development").test_client()
    assert client.post(LOGIN).status_code == 200
    assert client.get(ME).json == {"user": "ada"}
