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

from {{ cookiecutter.package_name }} import create_app
from {{ cookiecutter.package_name }}.cors.origins import Allowlist, parse_allowlist
from {{ cookiecutter.package_name }}.settings import DEFAULTS, Settings

# The front ends this API serves in production, as .env.example lists them.
PRODUCTION_ORIGINS = "{{ cookiecutter.production_origins }}"
# A single-label wildcard listed next to them, so that the wildcard rules are tested whatever they hold.
PREVIEW_WILDCARD = "https://*.preview.example.com"
PRODUCTION_CORS_ORIGINS = f"{PRODUCTION_ORIGINS}, {PREVIEW_WILDCARD}"

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


def vary(response) -> list[str]:
    """The request headers the response's Vary names, lowercase."""
    return [item.strip().lower() for item in response.headers.get("Vary", "").split(",") if item.strip()]


def add_failing_route(app: Flask) -> None:
    """Add GET /api/fail, which raises as a bug in a view would, with a message that must not reach clients."""

    def fail():
        raise RuntimeError("connection refused by db.internal:5432")

    app.add_url_rule("/api/fail", "fail", fail)


def skip_or_fail(reason: str) -> NoReturn:
    """Skip, as the browser tests are opt-in; with REQUIRE_BROWSER=1 fail, so that CI cannot pass without them."""
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (REQUIRE_BROWSER=1)", pytrace=False)
    pytest.skip(reason)


def require_chromium() -> None:
    """Skip or fail (skip_or_fail) unless the playwright package and Chromium are installed."""
    if find_spec("playwright") is None:
        skip_or_fail('the playwright package is missing: pip install -e ".[dev,browser]"')
    if not os.access(CHROMIUM, os.X_OK):
        skip_or_fail(f"no Chromium at {CHROMIUM}: install one (apt-get install chromium) or set CHROMIUM_PATH")


@pytest.fixture
def make_app() -> Callable[..., Flask]:
    """Build an app from variables: make_app(APP_ENV="testing", CORS_ORIGINS="http://localhost:3000")."""

    def make(**variables: str) -> Flask:
        return create_app(Settings.from_environ(variables))

    return make


@pytest.fixture
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    """os.environ without this API's variables, and a working directory without a .env file.

    For the code that reads the process environment itself; set variables with the monkeypatch
    returned, so they are undone after the test.
    """
    for name in list(os.environ):
        if name in DEFAULTS or name.startswith("CORS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return monkeypatch
