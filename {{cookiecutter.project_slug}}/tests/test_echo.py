"""The example route, /api/echo: the JSON body sent, back; anything else a JSON 400."""

from __future__ import annotations

import pytest

import conftest


@pytest.fixture
def client(make_app):
    return make_app(APP_ENV="testing", CORS_ORIGINS="http://localhost:3000").test_client()


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
    conftest.assert_json_error(response, 400)
    assert "Content-Type: application/json" in response.json["error"]["detail"]


@pytest.mark.parametrize("body", ['{"a": ', "not json", "", "{'a': 1}"])
def test_echo_refuses_invalid_json(client, body):
    response = client.post("/api/echo", data=body, content_type="application/json")
    conftest.assert_json_error(response, 400)
    assert response.json["error"]["detail"] == "The body is not valid JSON."
