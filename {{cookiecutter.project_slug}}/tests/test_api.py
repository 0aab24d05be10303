"""The example API, and errors as JSON: never an HTML page, never a traceback."""

from __future__ import annotations

import pytest

import conftest


@pytest.fixture
def client(make_app):
    app = make_app(APP_ENV="testing", CORS_ORIGINS="http://localhost:3000")
    conftest.add_failing_route(app)
    return app.test_client()


def assert_json_error(response, status: int):
    assert response.status_code == status
    assert response.mimetype == "application/json"
    assert response.json["error"]["status"] == status
    assert set(response.json["error"]) == {"status", "title", "detail"}


def test_health_answers_ok(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


@pytest.mark.parametrize(
    "body",
    [{"name": "Ada", "tags": ["x", "y"]}, {"nested": {"count": 3, "ok": True}}, [1, "two", None], "text", 3.5, False],
    ids=["object", "nested", "array", "string", "number", "boolean"],
)
def test_echo_returns_the_json_body_sent(client, body):
    response = client.post("/api/echo", json=body)
    assert response.status_code == 200
    assert response.json == body


def test_echo_keeps_non_ascii_text(client):
    assert client.post("/api/echo", json={"name": "Zoë 東京"}).json == {"name": "Zoë 東京"}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [(None, '{"a": 1}'), ("text/plain", '{"a": 1}'), ("application/x-www-form-urlencoded", "a=1")],
    ids=["none", "text", "form"],
)
def test_echo_refuses_a_body_that_is_not_declared_json(client, content_type, body):
    response = client.post("/api/echo", data=body, content_type=content_type)
    assert_json_error(response, 400)
    assert "Content-Type: application/json" in response.json["error"]["detail"]


@pytest.mark.parametrize("body", ['{"a": ', "not json", "", "{'a': 1}"])
def test_echo_refuses_invalid_json(client, body):
    response = client.post("/api/echo", data=body, content_type="application/json")
    assert_json_error(response, 400)
    assert response.json["error"]["detail"] == "The body is not valid JSON."


@pytest.mark.parametrize("prefix", ["/api/", "/"])
def test_an_unknown_path_is_a_json_404(client, prefix):
    assert_json_error(client.get(conftest.unrouted_path(client.application, prefix)), 404)


@pytest.mark.parametrize(("method", "path", "allowed"), [("GET", "/api/echo", "POST"), ("PUT", "/api/health", "GET")])
def test_a_wrong_method_is_a_json_405_that_lists_the_allowed_ones(client, method, path, allowed):
    response = client.open(path, method=method)
    assert_json_error(response, 405)
    assert allowed in response.headers["Allow"]


def test_an_unexpected_error_is_a_json_500_that_reveals_nothing(client, caplog):
    """The client learns only that the server failed; the operator's log has the traceback."""
    response = client.get(conftest.FAILING_ROUTE)
    assert_json_error(response, 500)
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    assert "db.internal" not in body
    assert "db.internal" in caplog.text
