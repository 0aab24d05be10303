"""`flask cors probe` over real HTTP against the app served on loopback, bare or with a fault in front,
and the comparison it makes, as pure functions. Real nginx, haproxy and Varnish: test_proxies.py.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager

import flask.cli
import pytest
from click.testing import CliRunner
from werkzeug.datastructures import Headers
from werkzeug.serving import make_server

from {{ cookiecutter.package_name }} import create_app
from {{ cookiecutter.package_name }}.cors import probe
from {{ cookiecutter.package_name }}.cors.browser import Exchange
from {{ cookiecutter.package_name }}.settings import Settings

import conftest

ALLOWED = "https://app.example.com"
OTHER = "https://admin.example.com"
SETTINGS = conftest.deployment({"APP_ENV": "production", "CORS_ORIGINS": f"{ALLOWED}, {OTHER}"})


def add_allow_origin_star(wsgi_app: Callable) -> Callable:
    """What nginx's `add_header Access-Control-Allow-Origin * always;` does to every answer."""

    def proxy(environ, start_response):
        return wsgi_app(
            environ,
            lambda status, headers, *rest: start_response(
                status, [*headers, ("Access-Control-Allow-Origin", "*")], *rest
            ),
        )

    return proxy


@contextmanager
def deployed(wrap: Callable[[Callable], Callable] = lambda wsgi_app: wsgi_app, settings=SETTINGS) -> Iterator[str]:
    """The app, configured by `settings`, with the tests' own routes and wrapped by `wrap`, served over HTTP on
    loopback; yield its URL."""
    app = conftest.add_test_routes(create_app(Settings.from_environ(settings)))
    server = make_server("127.0.0.1", 0, wrap(app), threaded=True)
    # Polling for shutdown every 50 ms rather than 500: the test ends as soon as its probe does.
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


def probe_command(*args: str):
    app = conftest.add_test_routes(create_app(Settings.from_environ(SETTINGS)))
    return app.test_cli_runner().invoke(args=["cors", "probe", *args])


def test_a_deployment_answering_as_the_app_passes():
    with deployed() as url:
        result = probe_command(
            url, "--origin", ALLOWED, "--method", "POST", "--path", conftest.JSON_ROUTE, "--header", "Content-Type"
        )
    assert result.exit_code == 0, result.output
    assert f"{ALLOWED}  " in result.output
    assert result.output.endswith("The deployment answers as the app does.\n")


def test_a_second_allow_origin_exits_1_and_is_named_for_each_origin():
    with deployed(add_allow_origin_star) as url:
        result = probe_command(url, "--origin", ALLOWED, "--json")
    assert result.exit_code == 1
    report = json.loads(result.output)
    found = {(difference["origin"], difference["problem"]) for difference in report["differences"]}
    assert found == {
        (ALLOWED, probe.TWO_ALLOW_ORIGINS.title),
        (OTHER, probe.TWO_ALLOW_ORIGINS.title),
        (probe.UNLISTED_ORIGIN, probe.ALLOW_ORIGIN_ADDED.title),
    }
    (first, *_) = report["origins"]
    raw = first["deployment"]["exchanges"][0]["response_headers"]
    assert [value for name, value in raw if name == "Access-Control-Allow-Origin"] == [ALLOWED, "*"]
    # One query value per run, shared by its requests: a cache keeps the probe's answers to itself.
    queries = {exchange["path"] for origin in report["origins"] for exchange in origin["deployment"]["exchanges"]}
    (query,) = queries
    assert query.startswith("/api/health?cors-probe=")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        # A port chosen when the test runs: the test's id must be the same in every pytest-xdist worker.
        pytest.param(None, "Connection refused", id="nothing-listens"),
        ("ftp://127.0.0.1", "is not a base URL"),
        ("http://127.0.0.1?x=1", "is not a base URL"),
        ("http://127.0.0.1:port", "is not a base URL"),
        ("http://127.0.0.1:70000", "is not a base URL"),
        ("http://user:secret@127.0.0.1", "is not a base URL"),
    ],
)
def test_a_deployment_that_cannot_be_asked_exits_2(url, message):
    # Bound, never listening: a connection to it is refused, and no server of another test can take the port.
    with closing(socket.socket()) as bound:
        bound.bind(("127.0.0.1", 0))
        result = probe_command(url or f"http://127.0.0.1:{bound.getsockname()[1]}")
    assert result.exit_code == 2
    assert message in result.output


def test_the_origins_probed_add_another_listed_one_and_an_unlisted_one(make_app):
    policy = (
        make_app(APP_ENV="production", CORS_ORIGINS=f"{ALLOWED} https://*.preview.example.com")
        .extensions["settings"]
        .policy()
    )
    assert probe.probe_origins(policy, [ALLOWED]) == [
        ALLOWED,
        "https://cors-probe.preview.example.com",
        probe.UNLISTED_ORIGIN,
    ]
    assert probe.probe_origins(policy, []) == [ALLOWED, "https://cors-probe.preview.example.com", probe.UNLISTED_ORIGIN]
    development = make_app(APP_ENV="development").extensions["settings"].policy()
    assert probe.probe_origins(development, []) == [probe.LOCAL_FRONT_END, probe.UNLISTED_ORIGIN]
    assert probe.probe_origins(None, [ALLOWED]) == [ALLOWED, probe.UNLISTED_ORIGIN]


def exchange(status: int = 200, method: str = "GET", **headers: str) -> Exchange:
    """An answer with `headers` (underscores for hyphens in their names); a list value repeats the header."""
    items = Headers()
    for name, value in headers.items():
        for one in value if isinstance(value, list) else [value]:
            items.add(name.replace("_", "-"), one)
    return Exchange(method, "/api/health", {}, status, str(status), items)


APP = exchange(Access_Control_Allow_Origin=OTHER, Vary="Origin")


@pytest.mark.parametrize(
    ("deployed", "problem"),
    [
        (APP, None),
        (exchange(Access_Control_Allow_Origin=[OTHER, "*"], Vary="Origin"), probe.TWO_ALLOW_ORIGINS),
        (exchange(Vary="Origin"), probe.ALLOW_ORIGIN_MISSING),
        (exchange(Access_Control_Allow_Origin=ALLOWED, Vary="Origin", Age="3"), probe.CACHE_IGNORES_ORIGIN),
        (exchange(Access_Control_Allow_Origin=OTHER), probe.VARY_REMOVED),
        (exchange(401, WWW_Authenticate="Basic"), probe.AUTHENTICATION),
        (exchange(301, Location="https://api.example.com/api/health"), probe.REDIRECT),
        (exchange(502), probe.PROXY_ERROR),
        (exchange(404), probe.STATUS_CHANGED),
    ],
    ids=["same", "two", "missing", "cache", "vary", "auth", "redirect", "502", "404"],
)
def test_each_difference_is_named(deployed, problem):
    """OTHER asks after ALLOWED, whose answer a cache that ignores Origin would hand over."""
    differences = probe.compare(OTHER, APP, deployed, earlier=[[ALLOWED]])
    assert [difference.problem for difference in differences] == ([problem] if problem else [])


def test_a_preflight_answered_by_something_else_is_named():
    app = exchange(204, "OPTIONS", Access_Control_Allow_Origin=OTHER, Access_Control_Allow_Methods="GET, POST, PUT")
    deployed = exchange(204, "OPTIONS", Access_Control_Allow_Origin=OTHER, Access_Control_Allow_Methods="GET")
    (difference,) = probe.compare(OTHER, app, deployed, earlier=[])
    assert difference.problem is probe.PREFLIGHT_ANSWERED
    assert difference.detail == "Access-Control-Allow-Methods: GET, where the app sends GET, POST, PUT"


def test_probe_judges_the_front_ends_against_the_deployments_own_site(monkeypatch):
    """The probed deployment is at http://127.0.0.1: every front end is on another site than it."""
    monkeypatch.setitem(SETTINGS, "CORS_ALLOW_CREDENTIALS", "true")
    with deployed() as url:
        text = probe_command(url, "--credentials")
        data = probe_command(url, "--credentials", "--json")
    assert text.exit_code == data.exit_code == 0, text.output
    assert "\nCaveats:\n  CORS_ORIGINS: " in text.output
    assert text.output.endswith("The deployment answers as the app does.\n")
    caveats = json.loads(data.output)["caveats"]
    assert caveats and all(f"another site than the API at {url}" in caveat["message"] for caveat in caveats)


@conftest.credentials_off
def test_probe_without_credentials_has_no_caveat(monkeypatch):
    monkeypatch.setitem(SETTINGS, "CORS_ALLOW_CREDENTIALS", "false")
    with deployed() as url:
        result = probe_command(url)
    assert "Caveat" not in result.output


@pytest.mark.parametrize(
    ("path", "sent"), [("/api/public/status", "from 1 origin,"), ("/api/health", "from 3 origins,")]
)
def test_the_probe_counts_the_origins_it_sent_from(path, sent):
    """A public policy lists no origin: the unlisted one alone is sent."""
    with deployed() as url:
        result = probe_command(url, "--path", path)
    assert f"GET {path} {sent}" in result.output


def test_the_probe_command_needs_only_app_env_and_the_policies_settings(clean_environ):
    """`flask cors probe` as run from a deploy machine: the deployment's APP_ENV and CORS_*, credentials on, and
    no SECRET_KEY, which the deployment itself has."""
    policy = {"APP_ENV": "production", "CORS_ORIGINS": f"{ALLOWED}, {OTHER}", "CORS_ALLOW_CREDENTIALS": "true"}
    for name, value in policy.items():
        clean_environ.setenv(name, value)
    command = ["--app", "{{ cookiecutter.package_name }}", "cors", "probe", "--origin", ALLOWED]
    with deployed(settings={**SETTINGS, **policy}) as url:
        result = CliRunner().invoke(flask.cli.cli, [*command, url])
    assert result.exit_code == 0, result.output
    assert "The deployment answers as the app does" in result.output
