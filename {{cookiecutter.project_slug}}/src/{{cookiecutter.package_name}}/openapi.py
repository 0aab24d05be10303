"""The API's description: /api/openapi.json (OpenAPI 3.1, built by flask-openapi3 from the routes and their
pydantic models) and /api/docs, Swagger UI reading it.

The page's files come from installed packages (Swagger UI's from flask-openapi3-swagger), never a CDN:
it works offline, and under its own Content-Security-Policy, which allows no inline script or style and
nothing from another origin. Registered only when API_DOCS is on (by default in development and staging).
"""

from __future__ import annotations

from pathlib import Path

import flask_openapi3_swagger
from flask import Blueprint, abort, current_app, jsonify, send_from_directory

SWAGGER_UI = Path(flask_openapi3_swagger.__file__).resolve().parent / "templates" / "swagger"
PAGE = Path(__file__).resolve().parent / "docs_page"
ASSETS = {
    "swagger-ui.css": SWAGGER_UI / "css",
    "swagger-ui-bundle.js": SWAGGER_UI / "js",
    "docs.js": PAGE,
    "docs.css": PAGE,
}
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)

blueprint = Blueprint("openapi", __name__, url_prefix="/api")


@blueprint.get("/openapi.json")
def document():
    return jsonify(current_app.api_doc)


@blueprint.get("/docs")
def page():
    return _with_policy(send_from_directory(PAGE, "index.html"))


@blueprint.get("/docs/<name>")
def asset(name: str):
    if name not in ASSETS:
        abort(404)
    return _with_policy(send_from_directory(ASSETS[name], name))


def _with_policy(response):
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response
