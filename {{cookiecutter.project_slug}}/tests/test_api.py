"""The health routes, and errors as JSON: never an HTML page, never a traceback."""

from __future__ import annotations

import pytest

import conftest


@pytest.fixture
def client(make_app):
    app = make_app(APP_ENV="testing", CORS_ORIGINS="http://localhost:3000")
    conftest.add_test_routes(app)
    return app.test_client()


def test_health_answers_ok(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


@pytest.mark.parametrize("prefix", ["/api/", "/"])
def test_an_unknown_path_is_a_json_404(client, prefix):
    conftest.assert_json_error(client.get(conftest.unrouted_path(client.application, prefix)), 404)


@pytest.mark.parametrize(
    ("method", "path", "allowed"), [("POST", "/api/health", "GET"), ("PUT", "/api/public/status", "GET")]
)
def test_a_wrong_method_is_a_json_405_that_lists_the_allowed_ones(client, method, path, allowed):
    response = client.open(path, method=method)
    conftest.assert_json_error(response, 405)
    assert allowed in response.headers["Allow"]


def test_an_unexpected_error_is_a_json_500_that_reveals_nothing(client, caplog):
    """The client learns only that the server failed; the operator's log has the traceback."""
    response = client.get(conftest.FAILING_ROUTE)
    conftest.assert_json_error(response, 500)
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    assert "db.internal" not in body
    assert "db.internal" in caplog.text
