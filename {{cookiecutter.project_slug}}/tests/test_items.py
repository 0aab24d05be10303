"""The example resource over HTTP, on a database its migrations made: SQLite, and PostgreSQL with `-m postgres`."""

from __future__ import annotations

import pytest

import conftest

FRONT_END = "http://localhost:3000"


@pytest.fixture
def client(make_database_app):
    """The app on an empty database."""
    return make_database_app(CORS_ORIGINS=FRONT_END).test_client()


def test_an_item_is_created_read_updated_listed_and_deleted(client):
    created = client.post("/api/items", json={"name": "Teapot", "quantity": 3})
    assert created.status_code == 201
    item = created.json
    assert item == {"id": item["id"], "name": "Teapot", "quantity": 3}
    assert client.get(f"/api/items/{item['id']}").json == item

    updated = client.put(f"/api/items/{item['id']}", json={"name": "Kettle"})
    assert updated.status_code == 200
    assert updated.json == {"id": item["id"], "name": "Kettle", "quantity": 0}
    assert client.get("/api/items").json == {"items": [updated.json], "page": 1, "per_page": 20, "total": 1}

    assert client.delete(f"/api/items/{item['id']}").status_code == 204
    conftest.assert_json_error(client.get(f"/api/items/{item['id']}"), 404)
    assert client.get("/api/items").json["total"] == 0


def test_the_list_comes_a_page_at_a_time_oldest_first(client):
    names = [f"item {number}" for number in range(5)]
    for name in names:
        client.post("/api/items", json={"name": name})
    pages = [client.get(f"/api/items?page={page}&per_page=2").json for page in (1, 2, 3, 4)]
    assert [[item["name"] for item in page["items"]] for page in pages] == [names[:2], names[2:4], names[4:], []]
    assert {page["total"] for page in pages} == {5}


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_a_missing_item_is_a_json_404(client, method):
    response = client.open("/api/items/999", method=method, json={"name": "Teapot"})
    conftest.assert_json_error(response, 404)
    assert "999" in response.json["error"]["detail"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"name"}),
        ({"name": "", "quantity": -1}, {"name", "quantity"}),
        ({"name": "Teapot", "colour": "blue"}, {"colour"}),
        ([1, 2], {"body"}),
        (None, {"body"}),
    ],
    ids=["missing", "out-of-range", "unknown", "not-an-object", "no-body"],
)
def test_a_bad_body_is_a_422_naming_each_field_readable_by_the_front_end(client, body, fields):
    content = {"json": body} if body is not None else {}
    response = client.post("/api/items", headers={"Origin": FRONT_END}, **content)
    assert response.status_code == 422
    error = response.json["error"]
    assert set(error["fields"]) == fields
    assert all(field in error["detail"] for field in fields)
    assert response.headers["Access-Control-Allow-Origin"] == FRONT_END
    assert client.get("/api/items").json["total"] == 0


@pytest.mark.parametrize("query", ["page=0", "per_page=101", "page=first"])
def test_a_bad_page_is_a_422_naming_the_parameter(client, query):
    response = client.get(f"/api/items?{query}")
    assert response.status_code == 422
    assert set(response.json["error"]["fields"]) == {query.partition("=")[0]}
