"""The policies are the only source of Access-Control-* headers: what else sets one never reaches a client.

What teams reach for, as the Flask-CORS documentation teaches it: `@cross_origin()`, `CORS(app)`, a
header set in a view, an `after_request` hook. In staging and production each is dropped (and an
ERROR names the route once); in development and testing the response becomes a 500 naming it, and
what can be seen at start-up stops start-up.
"""

from __future__ import annotations

import logging

import pytest
from flask import Blueprint, Flask, jsonify
from flask_cors import CORS, cross_origin
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from {{ cookiecutter.package_name }} import api, create_app
from {{ cookiecutter.package_name }}.cors.layer import CorsConflict, init_app, refuse_other_cors

import conftest

ALLOWED = conftest.ALLOWED_ORIGINS[0]
REFUSED = "https://evil.example.net"


def with_team_routes(app: Flask) -> Flask:
    """Routes that set CORS headers the ways teams do, added after start-up as a later change would."""

    @cross_origin()
    def decorated():
        return jsonify(route="decorated")

    def by_hand():
        return jsonify(route="by hand"), {
            "Access-Control-Allow-Origin": "*",
            "Access-Control-Allow-Credentials": "true",
        }

    app.add_url_rule(f"{conftest.TEST_API}/decorated", "decorated", decorated)
    app.add_url_rule(f"{conftest.TEST_API}/by-hand", "by_hand", by_hand)
    hooked = Blueprint("hooked", __name__, url_prefix=f"{conftest.TEST_API}/hooked")
    hooked.add_url_rule("/thing", "thing", lambda: jsonify(route="hooked"))

    @hooked.after_request
    def open_up(response):
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    app.register_blueprint(hooked)
    return app


TEAM_ROUTES = [f"{conftest.TEST_API}/{path}" for path in ("decorated", "by-hand", "hooked/thing")]


def app_in(environment: str) -> Flask:
    variables = {"APP_ENV": environment, "CORS_ORIGINS": conftest.PRODUCTION_CORS_ORIGINS}
    return with_team_routes(
        create_app(
            conftest.settings_from({**variables, "CORS_ALLOW_CREDENTIALS": "true", "SECRET_KEY": conftest.SECRET_KEY})
        )
    )


@pytest.mark.parametrize("environment", ["staging", "production"])
@pytest.mark.parametrize("path", TEAM_ROUTES)
def test_in_production_a_header_set_outside_the_policies_is_dropped(environment, path):
    client = app_in(environment).test_client()
    refused = client.get(path, headers={"Origin": REFUSED})
    assert refused.status_code == 200
    assert "Access-Control-Allow-Origin" not in refused.headers
    assert "Access-Control-Allow-Credentials" not in refused.headers
    allowed = client.get(path, headers={"Origin": ALLOWED})
    assert allowed.headers.getlist("Access-Control-Allow-Origin") == [ALLOWED]


def test_in_production_the_route_and_header_are_logged_once(caplog):
    client = app_in("production").test_client()
    for _ in range(3):
        client.get(f"{conftest.TEST_API}/by-hand", headers={"Origin": ALLOWED})
    errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert errors == [
        f"route {conftest.TEST_API}/by-hand (view by_hand) set Access-Control-Allow-Origin itself; the policies in "
        "policies.py are the only source of Access-Control-* headers: remove it from the view, hook or extension, "
        "or declare a Policy (the header was dropped)"
    ]


@pytest.mark.parametrize("environment", ["development", "testing"])
@pytest.mark.parametrize("path", TEAM_ROUTES)
def test_in_development_a_header_set_outside_the_policies_is_a_500_naming_the_route(environment, path):
    response = app_in(environment).test_client().get(path, headers={"Origin": ALLOWED})
    assert response.status_code == 500
    assert response.json["error"]["title"] == "CORS header set outside the policies"
    assert response.json["error"]["detail"].startswith(f"route {path} (view ")
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_header_set_outside_the_policies_is_refused_outside_them_too():
    app = app_in("testing")
    app.add_url_rule(f"{conftest.TEST_SITE}/open", "open", lambda: ("ok", {"Access-Control-Allow-Origin": "*"}))
    assert app.test_client().get(f"{conftest.TEST_SITE}/open").status_code == 500


def test_a_route_wrapped_by_cross_origin_stops_start_up(monkeypatch):
    wrapped = Blueprint("__tests__", __name__, url_prefix=conftest.TEST_API)
    wrapped.add_url_rule("/thing", "thing", cross_origin()(lambda: "ok"))
    monkeypatch.setattr(api, "blueprints", (*api.blueprints, wrapped))
    wrapped_by = r"route /api/__tests__/thing \(view __tests__.thing\) is wrapped by Flask-CORS's"
    with pytest.raises(CorsConflict, match=wrapped_by):
        create_app(conftest.settings_from({"APP_ENV": "development"}))


def test_a_second_cors_extension_is_refused():
    app = create_app(conftest.settings_from({"APP_ENV": "development"}))
    CORS(app)
    with pytest.raises(CorsConflict, match=r"Flask-CORS's CORS\(\) is registered on the app"):
        refuse_other_cors(app)
    assert app.test_client().get("/api/health", headers={"Origin": "http://localhost:3000"}).status_code == 500


def test_responses_without_a_route_are_reported_once_whatever_their_paths(caplog):
    """The path of a 404 is the client's to choose: a report per path would let clients flood the log."""
    app = app_in("production")
    app.after_request(lambda response: response.headers.set("Access-Control-Allow-Origin", "*") or response)
    client = app.test_client()
    for number in range(20):
        assert "Access-Control-Allow-Origin" not in client.get(f"/api/no-such-route-{number}").headers
    errors = [record.getMessage() for record in caplog.records if record.levelno == logging.ERROR]
    assert errors == [
        "a response without a route set Access-Control-Allow-Origin itself; the policies in policies.py are the only "
        "source of Access-Control-* headers: remove it from the view, hook or extension, or declare a Policy "
        "(the header was dropped)"
    ]


def mounted_with_flask_cors() -> tuple[Flask, list[str]]:
    """Another Flask app, with Flask-CORS's most open setup (every Origin reflected, with credentials) and a route
    that changes state; also the list of the changes it makes."""
    other = Flask("mounted")
    CORS(other, supports_credentials=True)
    changes: list[str] = []

    def delete():
        changes.append("deleted")
        return jsonify(deleted=True)

    other.add_url_rule("/delete", "delete", delete, methods=["POST"])
    other.add_url_rule("/read", "read", lambda: jsonify(profile="user data"))
    return other, changes


@pytest.mark.parametrize("environment", ["development", "production"])
def test_a_middleware_wrapped_around_wsgi_app_after_start_up_runs_inside_the_layer(environment):
    """Whatever is assigned to app.wsgi_app sits inside the CORS layer: its paths are judged by the policies, its
    own Access-Control-* headers refused like a view's, its cross-site writes refused before it runs."""
    app = app_in(environment)
    mount = conftest.unrouted_path(app, "/")
    other, changes = mounted_with_flask_cors()
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {mount: other})
    client = app.test_client()
    read = client.get(f"{mount}/read", headers={"Origin": REFUSED})
    assert "Access-Control-Allow-Origin" not in read.headers
    assert "Access-Control-Allow-Credentials" not in read.headers
    assert read.status_code == (500 if environment == "development" else 200)
    write = client.post(f"{mount}/delete", data={"a": "b"}, headers={"Origin": REFUSED, "Sec-Fetch-Site": "cross-site"})
    assert write.status_code == 403
    assert changes == []


def test_an_app_whose_class_does_not_serve_through_the_layer_is_refused():
    """Flask's own __call__ runs whatever app.wsgi_app is: a middleware assigned later would run outside the layer."""
    with pytest.raises(CorsConflict, match=r"class App\(ServedThroughLayer, Flask\)"):
        init_app(Flask(__name__), conftest.settings_from({"APP_ENV": "development"}))
