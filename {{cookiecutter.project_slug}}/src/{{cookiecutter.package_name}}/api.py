"""The example API: replace these routes with your own. policies.py says which policy covers each path."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from werkzeug.exceptions import BadRequest

# Under the "default" policy: the origins in CORS_ORIGINS.
blueprint = Blueprint("api", __name__, url_prefix="/api")
# Under the "public" policy: any site may read these, without credentials.
public = Blueprint("public", __name__, url_prefix="/api/public")


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


@public.get("/status")
def status():
    """What a status page, or any other site, may read: no user data, no credentials."""
    return jsonify(status="ok")


# The blueprints the app serves (create_app registers each): add yours here.
blueprints = (blueprint, public)
