"""Fixtures and origin samples shared by the tests.

Apps are built from explicit variables with Settings.from_environ, never from os.environ, so a
variable set in the shell that runs pytest cannot change what a test proves.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

import pytest
from flask import Flask
from werkzeug.exceptions import HTTPException, NotFound

from {{ cookiecutter.package_name }} import create_app
from {{ cookiecutter.package_name }}.cors.origins import Allowlist, parse_allowlist
from {{ cookiecutter.package_name }}.cors.policy import DEFAULT_POLICY, Policy
from {{ cookiecutter.package_name }}.policies import POLICIES
from {{ cookiecutter.package_name }}.settings import DEFAULTS, Settings

# The front ends this API serves in production, as .env.example lists them.
PRODUCTION_ORIGINS = "{{ cookiecutter.production_origins }}"
# A single-label wildcard listed next to them, so that the wildcard rules are tested whatever they hold.
PREVIEW_WILDCARD = "https://*.preview.example.com"
PRODUCTION_CORS_ORIGINS = f"{PRODUCTION_ORIGINS}, {PREVIEW_WILDCARD}"

# What deployments with credentials on must set: a SECRET_KEY (never this one).
SECRET_KEY = "test-only-secret-key-0123456789abcdefghij"  # noqa: S105 (a test value)
# Production with credentials on, the strictest deployment: the variables the API needs for it.
CREDENTIALED_PRODUCTION = {
    "APP_ENV": "production",
    "CORS_ORIGINS": PRODUCTION_CORS_ORIGINS,
    "CORS_ALLOW_CREDENTIALS": "true",
    "SECRET_KEY": SECRET_KEY,
}

# The routes the tests add for themselves live under "__tests__", a path segment no route of the team's
# takes, so that the suite passes whatever routes the team adds (POST /api/orders, /login, /): one place
# under the default policy (/api/), and one that no policy covers.
TEST_API = "/api/__tests__"
TEST_SITE = "/__tests__"
FAILING_ROUTE = f"{TEST_API}/fail"

# The project's gunicorn settings, which gunicorn's master runs before it starts a worker.
GUNICORN_CONF = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"
# The Chromium the browser tests drive: no `playwright install`.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

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


def add_failing_route(app: Flask) -> None:
    """Add GET FAILING_ROUTE, which raises as a bug in a view would, with a message that must not reach clients."""

    def fail():
        raise RuntimeError("connection refused by db.internal:5432")

    app.add_url_rule(FAILING_ROUTE, "fail", fail)


def other_allowlists(declarations: tuple[Policy, ...] = POLICIES) -> dict[str, str]:
    """An allowlist for each declared policy but the default and public ones: with these, a test written
    for the default policy runs unchanged once the team declares a policy of its own."""
    return {
        declaration.variable("ORIGINS"): PRODUCTION_CORS_ORIGINS
        for declaration in declarations
        if declaration.name != DEFAULT_POLICY and not declaration.public
    }


def deployment(variables: dict[str, str]) -> dict[str, str]:
    """A deployment's variables: `variables`, with other_allowlists() and a SECRET_KEY where they set none."""
    return {**other_allowlists(), "SECRET_KEY": SECRET_KEY, **variables}


def settings_from(
    environ: dict[str, str], dotenv: dict[str, str] | None = None, declarations: tuple[Policy, ...] = POLICIES
) -> Settings:
    """Settings.from_environ, with other_allowlists() where `environ` does not set them."""
    return Settings.from_environ({**other_allowlists(declarations), **environ}, dotenv, declarations)


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


@pytest.fixture
def make_app() -> Callable[..., Flask]:
    """Build an app from variables: make_app(APP_ENV="testing", CORS_ORIGINS="http://localhost:3000").

    SECRET_KEY is set unless given, as it is wherever the API is deployed with credentials.
    """

    def make(**variables: str) -> Flask:
        return create_app(settings_from({"SECRET_KEY": SECRET_KEY, **variables}))

    return make


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    """os.environ without this API's variables but other_allowlists(), and a working directory without a .env file.

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
    monkeypatch.chdir(tmp_path)
    return monkeypatch
