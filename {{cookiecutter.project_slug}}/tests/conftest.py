"""Fixtures and origin samples shared by the tests.

Apps are built from explicit variables with Settings.from_environ, never from os.environ, so a
variable set in the shell that runs pytest cannot change what a test proves.
"""

from __future__ import annotations

import gc
import os
import re
from collections.abc import Callable{% if cookiecutter.database == "postgresql" %}, Iterator{% endif %}
from importlib.util import find_spec
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pytest
{%- if cookiecutter.auth != "none" %}
from argon2 import PasswordHasher, profiles
{%- endif %}
from flask import Flask, jsonify, request
{%- if cookiecutter.auth != "none" %}
from flask.testing import FlaskClient
{%- endif %}
from werkzeug.exceptions import BadRequest, HTTPException, NotFound

from {{ cookiecutter.package_name }} import create_app{% if cookiecutter.database == "postgresql" %}, db{% endif %}
{%- if cookiecutter.auth != "none" %}
from {{ cookiecutter.package_name }}.auth import passwords
from {{ cookiecutter.package_name }}.auth.models import User
{%- endif %}
from {{ cookiecutter.package_name }}.cors.origins import Allowlist, parse_allowlist
from {{ cookiecutter.package_name }}.cors.policy import DEFAULT_POLICY, Policy
{%- if cookiecutter.database == "postgresql" %}
from {{ cookiecutter.package_name }}.migrate import alembic_config
from {{ cookiecutter.package_name }}.models import Base
{%- endif %}
from {{ cookiecutter.package_name }}.policies import POLICIES
from {{ cookiecutter.package_name }}.settings import DEFAULTS, Settings
{%- if cookiecutter.database == "postgresql" %}

import postgres
{%- endif %}

# The front ends this API serves in production, as .env.example lists them.
PRODUCTION_ORIGINS = "{{ cookiecutter.production_origins }}"
# A single-label wildcard listed next to them, so that the wildcard rules are tested whatever they hold.
PREVIEW_WILDCARD = "https://*.preview.example.com"
PRODUCTION_CORS_ORIGINS = f"{PRODUCTION_ORIGINS}, {PREVIEW_WILDCARD}"

{%- if cookiecutter.database == "postgresql" %}
# The database of the apps the tests build: in memory in development and testing, so each app starts empty; where
# deployed, a PostgreSQL address nothing listens on (port 9, discard): settings require one, these tests never connect.
TEST_DATABASE_URL = "sqlite://"
DEPLOYED_DATABASE_URL = "postgresql+psycopg://api@127.0.0.1:9/api"
{% endif %}
{%- if cookiecutter.auth != "none" %}
# The account of the sign-in tests (make_signed_up_app): the sign-in route's example (api/auth.py).
EMAIL, PASSWORD = "ada@example.com", "a long passphrase"
{%- endif %}
# How users sign in (auth/): "session", "token" or "none". With a session cookie, the policy of the sign-in
# routes keeps credentials on, and with a token it allows Authorization: start-up refuses it otherwise
# (test_sessions.py, test_tokens.py). The rules of a default policy without them are proved by the bakes
# that sign in otherwise, or not at all.
SIGN_IN = "{{ cookiecutter.auth }}"
credentials_off = pytest.mark.skipif(SIGN_IN == "session", reason="session sign-in keeps credentials on")
authorization_off = pytest.mark.skipif(SIGN_IN == "token", reason="token sign-in keeps Authorization allowed")

# What deployments with credentials on must set: a SECRET_KEY (never this one).
SECRET_KEY = "test-only-secret-key-0123456789abcdefghij"
# Production with credentials on, the strictest deployment: the variables the API needs for it.
CREDENTIALED_PRODUCTION = {
    "APP_ENV": "production",
    "CORS_ORIGINS": PRODUCTION_CORS_ORIGINS,
    "CORS_ALLOW_CREDENTIALS": "true",
    "SECRET_KEY": SECRET_KEY,
{%- if cookiecutter.database == "postgresql" %}
    "DATABASE_URL": DEPLOYED_DATABASE_URL,
{%- endif %}
}

# The routes the tests add for themselves live under "__tests__", a path segment no route of the team's
# takes, so that the suite passes whatever routes the team adds (POST /api/orders, /login, /): one place
# under the default policy (/api/), and one that no policy covers.
TEST_API = "/api/__tests__"
TEST_SITE = "/__tests__"
FAILING_ROUTE = f"{TEST_API}/fail"
# A JSON POST under the default policy, which a browser preflights: it answers the JSON body sent.
JSON_ROUTE = f"{TEST_API}/echo"

# The project's gunicorn settings, which gunicorn's master runs before it starts a worker.
GUNICORN_CONF = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"
# The Chromium the browser tests drive: no `playwright install`.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Set aside the objects that collection made, which live until the run ends (modules, tests, their
    parameters): the garbage collections after it, Python's own during the run, pytest's at its end and the
    interpreter's at exit, then no longer walk them each time, which took each process about half a second."""
    gc.freeze()


_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


def split_origin(origin: str) -> tuple[str, str, str]:
    """("https", "app.example.com", ":8443") for "https://app.example.com:8443"; the port may be ""."""
    parts = urlsplit(origin)
    port = f":{parts.port}" if parts.port else ""
    return parts.scheme, parts.netloc.removesuffix(port), port


def look_alikes(entry: str) -> set[str]:
    """Origins that a careless matcher would take for the allowlist `entry`.

    Each stands for a known mistake: matching a prefix or a suffix, leaving a dot unescaped,
    ignoring the scheme, the port or user-info, trusting `null`, or letting an entry cover
    subdomains it does not name.
    """
    scheme, host, port = split_origin(entry)
    if host.startswith("*."):
        domain = host.removeprefix("*.")
        host = f"pr-1.{domain}"
        tricks = {
            f"{scheme}://{domain}{port}",  # the wildcard's own domain
            f"{scheme}://a.{host}{port}",  # two labels in place of the '*'
            f"{scheme}://pr-1.{domain.replace('.', '-', 1)}{port}",  # an unescaped dot inside the domain
        }
    else:
        tricks = {
            f"{scheme}://evil{host}{port}",  # a suffix match
            f"{scheme}://evil.{host}{port}",  # a subdomain of an exact origin
        }
    other_scheme = "http" if scheme == "https" else "https"
    return tricks | {
        "null",
        f"{scheme}://{host}.evil.com{port}",  # a prefix match
        f"{scheme}://{host}_.evil.com{port}",  # '_' is accepted in host names by some browsers
        f"{scheme}://{host.replace('.', '-', 1)}{port}",  # an unescaped dot
        f"{scheme}://{host}{port}@evil.com",  # user-info
        f"{other_scheme}://{host}{port}",
        *(f"{scheme}://{host}{other_port}" for other_port in {"", ":8443"} - {port}),
    }


def is_listed(origin: str, allowlist: Allowlist) -> bool:
    """The allowlist rule in plain words: an exact entry, or one DNS label in place of a wildcard's '*'.

    A look-alike of one entry may be listed by another (https://evilapp.example.com is under
    https://*.example.com): then it is no attack.
    """
    scheme, host, port = split_origin(origin)
    label, _, domain = host.partition(".")
    wildcard = f"{scheme}://*.{domain}{port}"
    return origin in allowlist.exact or (wildcard in allowlist.wildcards and _LABEL.fullmatch(label) is not None)


PRODUCTION_ALLOWLIST = parse_allowlist(PRODUCTION_CORS_ORIGINS, environment="production")
ALLOWED_ORIGINS = sorted(PRODUCTION_ALLOWLIST.exact) + [
    wildcard.replace("*", label) for wildcard in PRODUCTION_ALLOWLIST.wildcards for label in ("pr-1", "x")
]
LOOK_ALIKE_ORIGINS = sorted(
    {
        origin
        for entry in [*PRODUCTION_ALLOWLIST.exact, *PRODUCTION_ALLOWLIST.wildcards]
        for origin in look_alikes(entry)
        if not is_listed(origin, PRODUCTION_ALLOWLIST)
    }
)


def cors_headers(response) -> dict[str, str]:
    """The response's Access-Control-* headers."""
    return {name: value for name, value in response.headers if name.lower().startswith("access-control-")}


def assert_json_error(response, status: int) -> None:
    """The response is the JSON error errors.py makes, with `status`."""
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.json["error"]["status"] == status
    assert set(response.json["error"]) == {"status", "title", "detail"}


def vary(response) -> list[str]:
    """The request headers the response's Vary names, lowercase."""
    return [item.strip().lower() for item in response.headers.get("Vary", "").split(",") if item.strip()]


def unrouted_path(app: Flask, prefix: str = "/") -> str:
    """A path under `prefix` that no route of `app` answers, whatever routes the team has added."""
    adapter = app.url_map.bind("localhost")
    for number in range(100):
        path = f"{prefix}no-such-route-{number}"
        try:
            adapter.match(path, method="GET")
        except NotFound:
            return path
        except HTTPException:  # a redirect or a 405: a route is there
            continue
    pytest.skip(f"a route answers every path under {prefix}")


def add_test_routes(app: Flask) -> Flask:
    """`app`, with the tests' own routes: GET FAILING_ROUTE, which raises as a bug in a view would, with a
    message that must not reach clients, and POST JSON_ROUTE, which answers the JSON body sent (a 400
    without one)."""

    def fail():
        raise RuntimeError("connection refused by db.internal:5432")

    def echo():
        body = request.get_json(silent=True)
        if body is None:
            raise BadRequest("Send a JSON body.")
        return jsonify(body)

    app.add_url_rule(FAILING_ROUTE, "fail", fail)
    app.add_url_rule(JSON_ROUTE, "json_echo", echo, methods=["POST"])
    return app


def other_allowlists(declarations: tuple[Policy, ...] = POLICIES) -> dict[str, str]:
    """An allowlist for each declared policy but the default and public ones: with these, a test written
    for the default policy runs unchanged once the team declares a policy of its own."""
    return {
        declaration.variable("ORIGINS"): PRODUCTION_CORS_ORIGINS
        for declaration in declarations
        if declaration.name != DEFAULT_POLICY and not declaration.public
    }


def deployment(variables: dict[str, str]) -> dict[str, str]:
    """A deployment's variables: `variables`, with other_allowlists(){% if cookiecutter.database == "postgresql" %}, a DATABASE_URL{% endif %} and a SECRET_KEY where
    they set none."""
    return {
        **other_allowlists(),
{%- if cookiecutter.database == "postgresql" %}
        "DATABASE_URL": DEPLOYED_DATABASE_URL,
{%- endif %}
        "SECRET_KEY": SECRET_KEY,
        **variables,
    }


def settings_from(
    environ: dict[str, str], dotenv: dict[str, str] | None = None, declarations: tuple[Policy, ...] = POLICIES
) -> Settings:
    """Settings.from_environ, with other_allowlists() {% if cookiecutter.database == "postgresql" %}and a database {% endif %}where `environ` does not set them."""
    defaults = other_allowlists(declarations)
{%- if cookiecutter.database == "postgresql" %}
    defaults["DATABASE_URL"] = database_for(environ.get("APP_ENV", ""))
{%- endif %}
    return Settings.from_environ({**defaults, **environ}, dotenv, declarations)
{%- if cookiecutter.database == "postgresql" %}


def database_for(environment: str) -> str:
    """TEST_DATABASE_URL in development and testing, DEPLOYED_DATABASE_URL elsewhere (production when unset)."""
    return TEST_DATABASE_URL if environment in ("development", "testing") else DEPLOYED_DATABASE_URL
{%- endif %}


def skip_or_fail(reason: str, required_by: str = "REQUIRE_BROWSER") -> NoReturn:
    """Skip, as the browser and proxy tests are opt-in; with `required_by`=1 (REQUIRE_BROWSER,
    REQUIRE_PROXIES) fail, so that CI cannot pass without them."""
    if os.environ.get(required_by) == "1":
        pytest.fail(f"{reason} ({required_by}=1)", pytrace=False)
    pytest.skip(reason)


def require_chromium() -> None:
    """Skip or fail (skip_or_fail) unless the playwright package and Chromium are installed."""
    if find_spec("playwright") is None:
        skip_or_fail('the playwright package is missing: pip install -e ".[dev,browser]"')
    if not os.access(CHROMIUM, os.X_OK):
        skip_or_fail(f"no Chromium at {CHROMIUM}: install one (apt-get install chromium) or set CHROMIUM_PATH")


{% if cookiecutter.database == "postgresql" %}@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL server's URL, for the session (tests/postgres.py); skipped or failed
    (REQUIRE_POSTGRES=1) without Debian's postgresql binaries."""
    binaries = postgres.find_binaries()
    if binaries is None:
        skip_or_fail(f"no PostgreSQL under {postgres.BINARIES}: apt-get install postgresql", "REQUIRE_POSTGRES")
    with postgres.postgres_server(binaries) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """In-memory SQLite; with `pytest -m postgres`, a real PostgreSQL server."""
    return TEST_DATABASE_URL if request.param == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.fixture
def make_database_app(make_app, database_url) -> Iterator[Callable[..., Flask]]:
    """make_app(**variables), in testing unless they say otherwise, on an empty database with every table
    (with_tables), emptied again after the test."""
    apps = []

    def make(**variables: str) -> Flask:
        app = make_app(**{"APP_ENV": "testing", "DATABASE_URL": database_url, **variables})
        apps.append(with_tables(app))
        return app

    yield make
    for app in apps:
        without_tables(app)


def with_tables(app: Flask) -> Flask:
    """`app`, its database given every table: in memory, made from the models (test_migrations.py proves the
    migrations make the same); on PostgreSQL, by the migrations from empty."""
    if app.extensions["settings"].database.url.startswith("sqlite"):
        Base.metadata.create_all(db.engine(app))
    else:
        from alembic import command  # imported here, as migrate.py does: only PostgreSQL runs need Alembic

        with app.app_context():
            command.upgrade(alembic_config(), "head")
    return app


def without_tables(app: Flask) -> None:
    """The database of `app` as with_tables found it: PostgreSQL's is migrated back to empty (in memory, each
    app has a database of its own, gone with it)."""
    if not app.extensions["settings"].database.url.startswith("sqlite"):
        from alembic import command

        with app.app_context():
            command.downgrade(alembic_config(), "base")
{%- if cookiecutter.auth != "none" %}


@pytest.fixture(autouse=True, scope="session")
def cheap_password_hashes() -> None:
    """Passwords hashed in microseconds rather than a fifth of a second each: the hashes the tests make are
    checked by the same code, with parameters no deployment would choose."""
    passwords.hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)


@pytest.fixture
def make_signed_up_app(make_database_app) -> Callable[..., Flask]:
    """make_database_app(**variables), serving the production front ends, with one account: EMAIL, PASSWORD."""

    def make(**variables: str) -> Flask:
        app = make_database_app(CORS_ORIGINS=PRODUCTION_CORS_ORIGINS, **variables)
        with app.app_context():
            db.session().add(User(email=EMAIL, password_hash=passwords.hash_password(PASSWORD)))
            db.session().commit()
        return app

    return make


@pytest.fixture
def api(make_signed_up_app) -> FlaskClient:
    """A client of the app with one account."""
    return make_signed_up_app().test_client()


def login(client: FlaskClient, email: str = EMAIL, password: str = PASSWORD, origin: str = ALLOWED_ORIGINS[0]):
    """POST /api/auth/login as a front end at `origin` sends it."""
    return client.post(
        "/api/auth/login",
        json={"email": email, "password": password},
        headers={"Origin": origin, "Sec-Fetch-Site": "cross-site"},
    )


def credentials_of(signed_in) -> dict[str, str]:
    """The headers a front end adds to its calls after the sign-in that answered `signed_in`: {% if cookiecutter.auth == "session" %}none, as the
    browser (and the test client) sends the session cookie by itself{% else %}the token, in an
    Authorization header{% endif %}."""
{%- if cookiecutter.auth == "session" %}
    return {}
{%- else %}
    return {"Authorization": f"Bearer {signed_in.json['access_token']}"}
{%- endif %}
{%- endif %}


{% endif %}@pytest.fixture(scope="session")
def make_app() -> Callable[..., Flask]:
    """Build an app from variables: make_app(APP_ENV="testing", CORS_ORIGINS="http://localhost:3000").

    SECRET_KEY is set unless given, as it is wherever the API is deployed with credentials. Each call builds
    a new app; a module's fixture may build one that its tests share (test_cors.py).
    """

    def make(**variables: str) -> Flask:
        return create_app(settings_from({"SECRET_KEY": SECRET_KEY, **variables}))

    return make


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    """os.environ without this API's variables but other_allowlists(){% if cookiecutter.database == "postgresql" %} and DEPLOYED_DATABASE_URL{% endif %}, and a working
    directory without a .env file.

    For the code that reads the process environment itself; set variables with the monkeypatch
    returned, so they are undone after the test.
    """
    for name in list(os.environ):
        if name in DEFAULTS or name.startswith("CORS_"):
            monkeypatch.delenv(name)
    # Set by `flask` for every command, in its own process: then, and only then, create_app() reads .env.
    monkeypatch.delenv("FLASK_RUN_FROM_CLI", raising=False)
    for name, value in other_allowlists().items():
        monkeypatch.setenv(name, value)
{%- if cookiecutter.database == "postgresql" %}
    monkeypatch.setenv("DATABASE_URL", DEPLOYED_DATABASE_URL)
{%- endif %}
    monkeypatch.chdir(tmp_path)
    return monkeypatch
