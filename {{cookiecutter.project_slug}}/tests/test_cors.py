"""The CORS policy over HTTP: the headers a browser sends in, the headers it decides on out.

An allowed origin gets `Access-Control-Allow-Origin` with exactly its own value; a refused one gets
no `Access-Control-*` header at all, on simple requests and on preflights alike.
"""

from __future__ import annotations

import pytest
from flask import Blueprint, abort, jsonify, request

from {{ cookiecutter.package_name }}.cors import layer

import conftest

PRODUCTION_LIKE = ["staging", "production"]
ALLOWED = conftest.ALLOWED_ORIGINS[0]
ATTACKER = "https://attacker.invalid"
LOCAL_FRONT_END = "http://localhost:3000"


def preflight(client, origin, *, path=conftest.JSON_ROUTE, method="POST", headers="content-type", extra=None):
    """The OPTIONS request a browser sends before a request it may not send without asking."""
    browser_headers = {
        "Origin": origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers,
        **(extra or {}),
    }
    return client.options(path, headers=browser_headers)


def simple_and_preflight(client, origin):
    return client.get("/api/health", headers={"Origin": origin}), preflight(client, origin)


def assert_allowed(client, origin):
    for response in simple_and_preflight(client, origin):
        assert response.headers.get("Access-Control-Allow-Origin") == origin
        assert "origin" in conftest.vary(response)


def assert_refused(client, origin):
    for response in simple_and_preflight(client, origin):
        assert conftest.cors_headers(response) == {}
        assert "origin" in conftest.vary(response)


def comma_set(value: str) -> set[str]:
    return {item.strip().lower() for item in value.split(",")}


# One app, with the tests' own routes, answers every origin a module's tests send, as one running API answers
# them all: module_* builds it, shared_* hands it to a test. The tests that share it only send requests; a test
# that adds a route or reads the log (which the app throttles) builds its own (production_client).
@pytest.fixture(scope="module")
def module_development_app(make_app):
    return conftest.add_test_routes(make_app(APP_ENV="development"))


@pytest.fixture(scope="module", params=PRODUCTION_LIKE)
def module_production_app(request, make_app):
    return conftest.add_test_routes(make_app(APP_ENV=request.param, CORS_ORIGINS=conftest.PRODUCTION_CORS_ORIGINS))


@pytest.fixture
def shared_development_client(module_development_app):
    return module_development_app.test_client()


@pytest.fixture
def shared_production_client(module_production_app):
    return module_production_app.test_client()


@pytest.fixture(params=PRODUCTION_LIKE)
def production_client(request, make_app):
    """A client of an app of the test's own, in staging then production."""
    return make_app(APP_ENV=request.param, CORS_ORIGINS=conftest.PRODUCTION_CORS_ORIGINS).test_client()


LOCAL_FRONT_ENDS = [
    "http://localhost:3000",
    "http://localhost:5173",
    "http://localhost:4200",
    "http://localhost:8080",
    "http://127.0.0.1:5173",
    "http://[::1]:3000",
    "https://localhost:8443",
    "https://127.0.0.1:8443",
    "http://localhost",
]


@pytest.mark.parametrize("origin", LOCAL_FRONT_ENDS)
def test_development_allows_every_local_front_end(shared_development_client, origin):
    assert_allowed(shared_development_client, origin)


@pytest.mark.parametrize(
    "origin",
    [
        "https://app.example.com",
        "http://localhost.evil.com",
        "http://localhost:3000.evil.com",
        "http://127.0.0.1.nip.io:3000",
        "http://evillocalhost:3000",
        "http://192.168.1.20:3000",
        "null",
    ],
)
def test_development_refuses_origins_that_are_not_local(shared_development_client, origin):
    assert_refused(shared_development_client, origin)


@pytest.mark.parametrize("origin", conftest.ALLOWED_ORIGINS)
def test_production_allows_listed_origins_and_one_label_under_a_wildcard(shared_production_client, origin):
    assert_allowed(shared_production_client, origin)


@pytest.mark.parametrize("origin", conftest.LOOK_ALIKE_ORIGINS)
def test_production_refuses_look_alikes_of_listed_origins(shared_production_client, origin):
    assert_refused(shared_production_client, origin)


@pytest.mark.parametrize("origin", LOCAL_FRONT_ENDS)
def test_production_refuses_local_front_ends(shared_production_client, origin):
    assert_refused(shared_production_client, origin)


def test_production_refuses_an_allowed_origin_followed_by_a_newline(shared_production_client):
    """A pattern ending in `$` would accept it: `$` also matches before a final newline.

    The test client refuses such a header value, so it goes straight into the WSGI environ.
    """
    response = shared_production_client.get("/api/health", environ_overrides={"HTTP_ORIGIN": f"{ALLOWED}\n"})
    assert conftest.cors_headers(response) == {}


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("http://localhost:3000", True),
        ("http://front.test:8080", True),
        ("https://localhost:3000", False),
        ("http://localhost:3001", False),
        ("http://front.test", False),
        ("http://localhost:5173", False),
    ],
)
def test_testing_allows_the_listed_http_origins_only(make_app, origin, allowed):
    client = make_app(APP_ENV="testing", CORS_ORIGINS="http://localhost:3000, http://front.test:8080").test_client()
    (assert_allowed if allowed else assert_refused)(client, origin)


def test_an_allowed_preflight_is_answered_at_once_with_the_policy(shared_production_client):
    response = preflight(shared_production_client, ALLOWED, headers="authorization,content-type,x-debug")
    assert response.status_code == 204
    assert response.get_data() == b""
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    allowed_methods = comma_set(response.headers["Access-Control-Allow-Methods"])
    assert allowed_methods == {"get", "head", "post", "put", "patch", "delete"}
    assert comma_set(response.headers["Access-Control-Allow-Headers"]) == {"authorization", "content-type"}
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert conftest.vary(response) == ["origin"]


def test_a_refused_preflight_gets_no_permission(shared_production_client):
    response = preflight(shared_production_client, ATTACKER, headers="authorization,content-type")
    assert conftest.cors_headers(response) == {}
    assert conftest.vary(response) == ["origin"]


@pytest.mark.parametrize(("method", "allowed"), [("POST", True), ("GET", True), ("DELETE", False), ("PURGE", False)])
def test_a_preflight_for_an_unlisted_method_gets_no_allowed_methods(make_app, method, allowed):
    client = make_app(APP_ENV="development", CORS_ALLOW_METHODS="GET, POST").test_client()
    response = preflight(client, LOCAL_FRONT_END, method=method)
    assert response.headers["Access-Control-Allow-Origin"] == LOCAL_FRONT_END
    assert response.headers.get("Access-Control-Allow-Methods") == ("GET, POST" if allowed else None)


@pytest.mark.parametrize("max_age", ["0", "7200"])
def test_preflight_max_age_is_sent_as_configured(make_app, max_age):
    """Without the header, browsers cache a preflight for about 5 s: 0 must be sent to mean 0."""
    client = make_app(APP_ENV="development", CORS_MAX_AGE=max_age).test_client()
    assert preflight(client, LOCAL_FRONT_END).headers["Access-Control-Max-Age"] == max_age


@pytest.mark.parametrize(
    ("setting", "header"), [("true", "true"), pytest.param("false", None, marks=conftest.credentials_off)]
)
def test_credentials_are_announced_only_when_on_and_only_to_allowed_origins(make_app, setting, header):
    app = make_app(APP_ENV="production", CORS_ORIGINS=conftest.PRODUCTION_CORS_ORIGINS, CORS_ALLOW_CREDENTIALS=setting)
    client = app.test_client()
    for response in simple_and_preflight(client, ALLOWED):
        assert response.headers.get("Access-Control-Allow-Credentials") == header
    assert_refused(client, ATTACKER)


@pytest.mark.parametrize("origin", LOCAL_FRONT_ENDS)
def test_with_credentials_the_origin_is_named_never_a_wildcard(make_app, origin):
    """Browsers refuse `Access-Control-Allow-Origin: *` on a request that carries credentials."""
    client = make_app(APP_ENV="development", CORS_ALLOW_CREDENTIALS="true").test_client()
    for response in simple_and_preflight(client, origin):
        assert response.headers["Access-Control-Allow-Origin"] == origin
        assert response.headers["Access-Control-Allow-Credentials"] == "true"


@conftest.credentials_off
@pytest.mark.parametrize("origin", [LOCAL_FRONT_END, ATTACKER, "null"])
def test_development_star_sends_a_wildcard_without_credentials(make_app, origin):
    client = make_app(APP_ENV="development", CORS_ORIGINS="*", CORS_ALLOW_CREDENTIALS="false").test_client()
    for response in simple_and_preflight(client, origin):
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert "Access-Control-Allow-Credentials" not in response.headers


@pytest.mark.parametrize("origin", [ALLOWED, ATTACKER, None], ids=["allowed", "refused", "no-origin"])
@pytest.mark.parametrize("routed", [True, False], ids=["route", "no-route"])
def test_every_api_response_varies_by_origin(shared_production_client, origin, routed):
    """Otherwise a shared cache could hand one origin's response, or a refusal, to another."""
    headers = {"Origin": origin} if origin else {}
    path = "/api/health" if routed else conftest.unrouted_path(shared_production_client.application, "/api/")
    assert conftest.vary(shared_production_client.get(path, headers=headers)) == ["origin"]


@pytest.mark.parametrize(
    ("route_vary", "merged"),
    [("Accept-Encoding", "Accept-Encoding, Origin"), ("Origin", "Origin"), ("Accept, origin", "Accept, origin")],
)
def test_vary_origin_joins_a_route_s_own_vary_once(make_app, route_vary, merged):
    app = make_app(APP_ENV="development")
    path = f"{conftest.TEST_API}/negotiated"
    app.add_url_rule(path, "negotiated", lambda: (jsonify(status="ok"), {"Vary": route_vary}))
    response = app.test_client().get(path, headers={"Origin": LOCAL_FRONT_END})
    assert response.headers.getlist("Vary") == [merged]


@pytest.mark.parametrize(
    ("method", "path", "request_options"),
    [
        ("GET", "/api/health", {}),
        ("POST", conftest.JSON_ROUTE, {"json": {"status": "ok"}}),
        ("OPTIONS", conftest.JSON_ROUTE, {"headers": {"Access-Control-Request-Method": "POST"}}),
    ],
)
def test_a_request_without_origin_gets_no_cors_headers(shared_production_client, method, path, request_options):
    """curl, servers and crawlers send no Origin: CORS is not theirs, and the allowlist stays private."""
    response = shared_production_client.open(path, method=method, **request_options)
    assert conftest.cors_headers(response) == {}
    assert conftest.vary(response) == ["origin"]


PRIVATE_NETWORK_REQUEST = {"Access-Control-Request-Private-Network": "true"}


@pytest.mark.parametrize(
    ("variables", "header"),
    [({}, None), ({"CORS_ALLOW_PRIVATE_NETWORK": "false"}, None), ({"CORS_ALLOW_PRIVATE_NETWORK": "true"}, "true")],
    ids=["unset", "false", "true"],
)
def test_private_network_access_is_granted_only_when_configured(make_app, variables, header):
    client = make_app(APP_ENV="development", **variables).test_client()
    response = preflight(client, LOCAL_FRONT_END, extra=PRIVATE_NETWORK_REQUEST)
    assert response.headers["Access-Control-Allow-Origin"] == LOCAL_FRONT_END
    assert response.headers.get("Access-Control-Allow-Private-Network") == header
    assert conftest.cors_headers(preflight(client, ATTACKER, extra=PRIVATE_NETWORK_REQUEST)) == {}


def test_each_request_gets_its_own_answer_when_an_origin_s_answer_is_remembered(make_app):
    """The answer to a simple request is decided once per Origin and Private Network header, then reused."""
    client = make_app(APP_ENV="development", CORS_ALLOW_PRIVATE_NETWORK="true").test_client()
    for _ in range(2):
        plain = client.get("/api/health", headers={"Origin": LOCAL_FRONT_END})
        private = client.get("/api/health", headers={"Origin": LOCAL_FRONT_END, **PRIVATE_NETWORK_REQUEST})
        other_port = client.get("/api/health", headers={"Origin": "http://localhost:5173"})
        refused = client.get("/api/health", headers={"Origin": ATTACKER})
        assert plain.headers["Access-Control-Allow-Origin"] == LOCAL_FRONT_END
        assert "Access-Control-Allow-Private-Network" not in plain.headers
        assert private.headers["Access-Control-Allow-Private-Network"] == "true"
        assert other_port.headers["Access-Control-Allow-Origin"] == "http://localhost:5173"
        assert conftest.cors_headers(refused) == {}


@pytest.mark.parametrize(("origin", "logged"), [("", False), (f"https://{'a' * 8000}.example.com", True)])
def test_an_empty_or_oversized_origin_gets_no_cors_headers(production_client, caplog, origin, logged):
    """An empty Origin is no Origin; one longer than any host name is decided without being remembered."""
    response = production_client.get("/api/health", headers={"Origin": origin})
    assert response.status_code == 200
    assert conftest.cors_headers(response) == {}
    assert conftest.vary(response) == ["origin"]
    assert ("CORS refused origin" in caplog.text) == logged


def require_authorization():
    if "Authorization" not in request.headers:
        abort(401)


PROFILE = f"{conftest.TEST_API}/private/profile"


def app_with_login(make_app, where: str):
    """An app whose TEST_API/private/profile needs an Authorization header, checked `where`: "app" or "blueprint"."""
    app = make_app(APP_ENV="production", CORS_ORIGINS=conftest.PRODUCTION_CORS_ORIGINS)
    private = Blueprint("private", __name__, url_prefix=f"{conftest.TEST_API}/private")

    @private.get("/profile")
    def profile():
        return jsonify(name="Ada")

    (app if where == "app" else private).before_request(require_authorization)
    app.register_blueprint(private)
    return app


@pytest.mark.parametrize("where", ["app", "blueprint"])
def test_preflights_never_reach_authentication(make_app, where):
    """Browsers send preflights without cookies or Authorization: a login check must never see one."""
    client = app_with_login(make_app, where).test_client()
    response = preflight(client, ALLOWED, path=PROFILE, method="GET", headers="authorization")
    assert response.status_code == 204
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert response.headers["Access-Control-Allow-Headers"].lower() == "authorization"


@pytest.mark.parametrize("where", ["app", "blueprint"])
def test_an_authentication_failure_is_readable_by_an_allowed_front_end(make_app, where):
    client = app_with_login(make_app, where).test_client()
    refused = client.get(PROFILE, headers={"Origin": ALLOWED})
    assert refused.status_code == 401
    assert refused.headers["Access-Control-Allow-Origin"] == ALLOWED
    signed_in = client.get(PROFILE, headers={"Origin": ALLOWED, "Authorization": "Bearer token"})
    assert signed_in.json == {"name": "Ada"}


@pytest.mark.parametrize("path", ["/outside", "/apiary", "/api-internal/status"])
def test_paths_outside_api_get_no_cors_headers(make_app, path):
    """`/apiary` and `/api-internal` start like `/api`: a prefix regex such as r"/api*" would cover them."""
    app = make_app(APP_ENV="development")
    app.add_url_rule(path, "outside", lambda: "outside")
    client = app.test_client()
    simple = client.get(path, headers={"Origin": LOCAL_FRONT_END})
    for response in (simple, preflight(client, LOCAL_FRONT_END, path=path)):
        assert conftest.cors_headers(response) == {}
        assert "origin" not in conftest.vary(response)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", conftest.JSON_ROUTE, 400),
        ("GET", None, 404),
        ("GET", conftest.JSON_ROUTE, 405),
        ("GET", conftest.FAILING_ROUTE, 500),
    ],
)
def test_errors_are_readable_by_an_allowed_front_end(shared_production_client, method, path, status):
    """A front end can show the JSON error only if the browser lets it read the response."""
    path = path or conftest.unrouted_path(shared_production_client.application, "/api/")
    response = shared_production_client.open(path, method=method, headers={"Origin": ALLOWED})
    assert response.status_code == status
    assert response.json["error"]["status"] == status
    assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert conftest.vary(response) == ["origin"]


def test_a_second_cors_policy_on_the_same_app_is_refused(make_app):
    """Flask-CORS would merge the two, and a permissive second policy would reopen the first."""
    app = make_app(APP_ENV="production", CORS_ORIGINS=conftest.PRODUCTION_CORS_ORIGINS)
    with pytest.raises(RuntimeError, match="already configured"):
        layer.init_app(app, conftest.settings_from({"APP_ENV": "development", "CORS_ALLOW_CREDENTIALS": "true"}))
