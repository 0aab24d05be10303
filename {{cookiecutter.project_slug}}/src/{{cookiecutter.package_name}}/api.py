"""The example API: replace these routes with your own, under the /api/ prefix CORS covers."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

blueprint = Blueprint("api", __name__, url_prefix="/api")


@blueprint.get("/health")
def health():
    """Liveness for load balancers and orchestrators: answers whenever the app is serving."""
    return jsonify(status="ok")


@blueprint.post("/echo")
def echo():
    """Return the JSON body sent. A browser preflights this request: its body is JSON."""
    if not request.is_json:
        raise BadRequest("Send a JSON body with the header Content-Type: application/json.")
    try:
        body = request.get_json()
    except BadRequest:
        # Flask's own message for this is generic outside debug mode.
        raise BadRequest("The body is not valid JSON.") from None
    return jsonify(body)
