"""Behind caches and proxies: `Vary: Origin` keeps a shared cache from handing one origin's response
to another, and TRUSTED_PROXY_HOPS decides whose X-Forwarded-* headers are believed.
"""

from __future__ import annotations

import runpy
from collections.abc import Callable

import pytest
from flask import Flask, request
from gunicorn.config import Config
from werkzeug.datastructures import Headers
from werkzeug.test import TestResponse

from {{ cookiecutter.package_name }}.settings import SettingsError

import conftest

ALLOWED = "https://app.example.com"
OTHER_ALLOWED = "https://admin.example.com"
REFUSED = "https://evil.example.net"
CLIENT = "203.0.113.7"
# A route showing what the app believes about the client.
CLIENT_ROUTE = f"{conftest.TEST_API}/client"


@pytest.fixture
def app_behind(make_app) -> Callable[[int], Flask]:
    """app_behind(hops): an app behind that many trusted proxies, with the tests' own routes and one showing what
    it believes."""

    def make(hops: int) -> Flask:
        app = make_app(APP_ENV="testing", CORS_ORIGINS=f"{ALLOWED} {OTHER_ALLOWED}", TRUSTED_PROXY_HOPS=str(hops))
        conftest.add_test_routes(app)
        app.add_url_rule(CLIENT_ROUTE, "client", lambda: {"address": request.remote_addr, "scheme": request.scheme})
        return app

    return make


def origin_header(origin: str | None) -> dict[str, str]:
    return {"Origin": origin} if origin else {}


class SharedCache:
    """A shared cache as RFC 9111 section 4.1 has it: a stored response is reused for a later request to
    the same URL only when every request header its `Vary` names has the same value in both requests.
    """

    def __init__(self, app: Flask):
        self.client = app.test_client()
        self.stored: dict[str, tuple[Headers, TestResponse]] = {}

    def get(self, path: str, headers: dict[str, str]) -> TestResponse:
        if path in self.stored:
            stored_headers, response = self.stored[path]
            if all(stored_headers.get(name) == Headers(headers).get(name) for name in conftest.vary(response)):
                return response
        response = self.client.get(path, headers=headers)
        self.stored[path] = (Headers(headers), response)
        return response


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/api/health", {}),
        ("POST", conftest.JSON_ROUTE, {"Content-Type": "application/json"}),
        ("OPTIONS", conftest.JSON_ROUTE, {"Access-Control-Request-Method": "POST"}),
        ("GET", None, {}),
    ],
    ids=["get", "post", "preflight", "not-found"],
)
def test_responses_that_differ_by_origin_all_carry_vary_origin(app_behind, method, path, headers):
    client = app_behind(0).test_client()
    path = path or conftest.unrouted_path(client.application, "/api/")
    body = "{}" if method == "POST" else None
    responses = {
        origin: client.open(path, method=method, headers={**headers, **origin_header(origin)}, data=body)
        for origin in (None, ALLOWED, OTHER_ALLOWED, REFUSED)
    }
    allowed_origins = {origin: r.headers.get("Access-Control-Allow-Origin") for origin, r in responses.items()}
    assert allowed_origins == {None: None, ALLOWED: ALLOWED, OTHER_ALLOWED: OTHER_ALLOWED, REFUSED: None}
    # Without an Origin too: a cache may store that response first and must not serve it to a browser.
    assert all("origin" in conftest.vary(response) for response in responses.values())


def test_responses_outside_the_api_do_not_depend_on_origin(app_behind):
    app = app_behind(0)
    response = app.test_client().get(conftest.unrouted_path(app, "/"), headers=origin_header(ALLOWED))
    assert response.status_code == 404
    assert not [name for name, _ in response.headers if name.startswith("Access-Control-")]
    assert "origin" not in conftest.vary(response)


@pytest.mark.parametrize(
    ("first", "second"),
    [(None, ALLOWED), (ALLOWED, None), (ALLOWED, OTHER_ALLOWED), (ALLOWED, REFUSED), (REFUSED, ALLOWED)],
    ids=["crawler-then-browser", "browser-then-crawler", "two-front-ends", "allowed-refused", "refused-allowed"],
)
def test_a_shared_cache_gives_each_origin_its_own_answer(app_behind, first, second):
    app = app_behind(0)
    cache = SharedCache(app)
    cache.get("/api/health", origin_header(first))
    cached = cache.get("/api/health", origin_header(second))
    direct = app.test_client().get("/api/health", headers=origin_header(second))
    assert cached.headers.get("Access-Control-Allow-Origin") == direct.headers.get("Access-Control-Allow-Origin")


def test_the_cache_model_would_mix_origins_without_vary(app_behind):
    cache = SharedCache(app_behind(0))
    cache.get("/api/health", {}).headers.remove("Vary")
    assert "Access-Control-Allow-Origin" not in cache.get("/api/health", origin_header(ALLOWED)).headers


# Each proxy appends the address and scheme it received a request from; a client can send any value first.
FORWARDED = {"X-Forwarded-For": f"198.51.100.1, {CLIENT}", "X-Forwarded-Proto": "http, https"}


@pytest.mark.parametrize(
    ("hops", "address", "scheme"),
    [
        # No proxy trusted: the headers could come from anyone and are ignored.
        (0, "127.0.0.1", "http"),
        # One proxy: its values are the last ones; the ones before could be the client's own.
        (1, CLIENT, "https"),
        # Two proxies: the values before those of the nearest one were appended by the outer one.
        (2, "198.51.100.1", "http"),
    ],
)
def test_trusted_proxy_hops_decides_which_forwarded_values_are_believed(app_behind, hops, address, scheme):
    response = app_behind(hops).test_client().get(CLIENT_ROUTE, headers=FORWARDED)
    assert response.json == {"address": address, "scheme": scheme}


def test_proxy_fix_runs_before_the_cors_layer(app_behind):
    """Every other layer, the CORS layer included, sees the client's scheme, host and address."""
    app = app_behind(1)
    preflight = {"Origin": ALLOWED, "Access-Control-Request-Method": "POST", **FORWARDED}
    response = app.test_client().options(conftest.JSON_ROUTE, headers=preflight)
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED


@pytest.mark.parametrize(
    ("proxies", "peer", "believed"),
    [
        ("127.0.0.1", "127.0.0.1", True),
        ("10.0.0.0/8, fd00::/8", "10.1.2.3", True),
        ("10.0.0.0/8, fd00::/8", "fd00::7", True),
        ("10.0.0.0/8", "::ffff:10.0.0.9", True),
        ("10.0.0.0/8", "192.0.2.1", False),
        ("10.0.0.0/8", "::1", False),
        ("127.0.0.1", "", True),  # a Unix socket: the same machine, as gunicorn trusts it
    ],
)
def test_forwarded_headers_are_believed_only_from_trusted_proxies(make_app, proxies, peer, believed):
    """A client that reaches the app around the proxy cannot choose the scheme, host and address it is judged by."""
    app = make_app(APP_ENV="production", CORS_ORIGINS=ALLOWED, TRUSTED_PROXY_HOPS="1", TRUSTED_PROXIES=proxies)
    route = f"{conftest.TEST_API}/client"
    app.add_url_rule(route, "client", lambda: {"address": request.remote_addr, "scheme": request.scheme})
    response = app.test_client().get(route, headers=FORWARDED, environ_overrides={"REMOTE_ADDR": peer})
    expected = {"address": CLIENT, "scheme": "https"} if believed else {"address": peer, "scheme": "http"}
    assert response.json == expected


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_deployed_hops_without_trusted_proxies_stop_start_up_naming_the_fix(environment):
    with pytest.raises(SettingsError) as refusal:
        conftest.settings_from(
            conftest.deployment({"APP_ENV": environment, "CORS_ORIGINS": ALLOWED, "TRUSTED_PROXY_HOPS": "1"})
        )
    assert f"TRUSTED_PROXY_HOPS=1 needs TRUSTED_PROXIES when APP_ENV={environment}" in str(refusal.value)
    assert "127.0.0.1 for a proxy on the same machine" in str(refusal.value)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"TRUSTED_PROXY_HOPS": "1", "TRUSTED_PROXIES": "10.0.0.0/8 proxy.internal"}, "'proxy.internal' does not"),
        ({"TRUSTED_PROXIES": "10.0.0.0/8"}, "TRUSTED_PROXY_HOPS=0 believes no proxy"),
    ],
)
def test_trusted_proxies_must_be_addresses_and_come_with_hops(variables, message):
    with pytest.raises(SettingsError, match=message):
        conftest.settings_from({"APP_ENV": "testing", "CORS_ORIGINS": ALLOWED, **variables})


@pytest.mark.parametrize(
    ("hops", "proxies", "trusted"),
    [("0", "", []), ("2", "", ["*"]), ("1", "10.0.0.0/8, 127.0.0.1", ["10.0.0.0/8", "127.0.0.1/32"])],
)
def test_gunicorn_trusts_forwarded_headers_only_from_the_proxies(clean_environ, hops, proxies, trusted):
    clean_environ.setenv("APP_ENV", "testing")
    clean_environ.setenv("CORS_ORIGINS", ALLOWED)
    clean_environ.setenv("TRUSTED_PROXY_HOPS", hops)
    clean_environ.setenv("TRUSTED_PROXIES", proxies)
    conf = runpy.run_path(str(conftest.GUNICORN_CONF))
    config = Config()
    config.set("forwarded_allow_ips", conf["forwarded_allow_ips"])
    assert config.forwarded_allow_ips == trusted
