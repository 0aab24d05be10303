"""POST /api/echo: the JSON body sent, back. A browser preflights it (its body is JSON): docs/debugging.md
and docs/troubleshooting.md ask the API about it."""

from __future__ import annotations

from flask import jsonify, request
from flask_openapi3 import APIBlueprint
from werkzeug.exceptions import BadRequest

blueprint = APIBlueprint("echo", __name__, url_prefix="/api")


@blueprint.post("/echo")
def echo():
    """Return the JSON body sent."""
    if not request.is_json:
        raise BadRequest("Send a JSON body with the header Content-Type: application/json.")
    try:
        body = request.get_json()
    except BadRequest:
        # Flask's own message for this is generic outside debug mode.
        raise BadRequest("The body is not valid JSON.") from None
    return jsonify(body)
