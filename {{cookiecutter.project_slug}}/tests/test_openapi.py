"""The API's description: an OpenAPI 3.1 document built from the routes, and a page that works offline."""

from __future__ import annotations

import pytest
from flask_openapi3 import APIBlueprint
from pydantic import BaseModel

import conftest


@pytest.fixture
def client(make_app):
    return make_app(APP_ENV="testing", CORS_ORIGINS="http://localhost:3000", API_DOCS="true").test_client()


def test_the_document_is_valid_openapi_3_1_and_describes_every_api_blueprint_route(client):
    from openapi_spec_validator import OpenAPIV31SpecValidator  # heavy: imported by the test that needs it

    document = client.get("/api/openapi.json").json
    OpenAPIV31SpecValidator(document).validate()
    assert document["openapi"].startswith("3.1.")
    app = client.application
    described = {(path, method.upper()) for path, operations in document["paths"].items() for method in operations}
    for rule in app.url_map.iter_rules():
        # A plain Flask Blueprint's routes are served but not described: only flask-openapi3's are.
        if not isinstance(app.blueprints.get(rule.endpoint.partition(".")[0]), APIBlueprint):
            continue
        path = rule.rule.replace("<int:", "{").replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in described, f"{method} {rule.rule} is not in /api/openapi.json"


class Parcel(BaseModel):
    """A request model of the tests' own, whatever models the team's routes have."""

    label: str
    weight: int = 0


def test_a_request_model_is_in_the_document_with_its_fields(make_app):
    blueprint = APIBlueprint("tests_parcels", __name__, url_prefix=f"{conftest.TEST_API}/parcels")

    @blueprint.post("")
    def send_parcel(body: Parcel):
        return body.model_dump()

    app = make_app(APP_ENV="testing", CORS_ORIGINS="http://localhost:3000", API_DOCS="true")
    app.register_api(blueprint)
    schemas = app.test_client().get("/api/openapi.json").json["components"]["schemas"]
    assert set(schemas["Parcel"]["properties"]) == {"label", "weight"}
    assert schemas["Parcel"]["required"] == ["label"]


def test_the_docs_page_loads_its_files_from_the_app_under_a_strict_content_security_policy(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy
    html = page.get_data(as_text=True)
    assert "<script>" not in html and "http" not in html  # no inline script, nothing from another site
    for name in ("swagger-ui-bundle.js", "swagger-ui.css", "docs.js", "docs.css"):
        assert f'"docs/{name}"' in html
        asset = client.get(f"/api/docs/{name}")
        assert asset.status_code == 200 and len(asset.data) > 10, name
    conftest.assert_json_error(client.get("/api/docs/index.py"), 404)


@pytest.mark.parametrize(
    ("variables", "served"),
    [
        ({"APP_ENV": "development"}, True),
        ({"APP_ENV": "staging"}, True),
        ({"APP_ENV": "testing"}, False),
        ({"APP_ENV": "production"}, False),
        ({"APP_ENV": "production", "API_DOCS": "true"}, True),
        ({"APP_ENV": "development", "API_DOCS": "false"}, False),
    ],
)
def test_the_description_is_served_where_api_docs_says(make_app, variables, served):
    origins = "http://localhost:3000" if variables["APP_ENV"] == "testing" else conftest.PRODUCTION_CORS_ORIGINS
    environment = {"CORS_ORIGINS": origins, **variables}
    if variables["APP_ENV"] in ("staging", "production"):
        environment = conftest.deployment(environment)
    client = make_app(**environment).test_client()
    for path in ("/api/openapi.json", "/api/docs"):
        assert (client.get(path).status_code == 200) == served, path
