"""Whether the API is serving: for load balancers, orchestrators and status pages."""

from __future__ import annotations

from flask import jsonify
from flask_openapi3 import APIBlueprint, Tag

# Under the "default" policy: the origins in CORS_ORIGINS.
blueprint = APIBlueprint("health", __name__, url_prefix="/api", abp_tags=[Tag(name="health")])
# Under the "public" policy: any site may read these, without credentials.
public = APIBlueprint("public", __name__, url_prefix="/api/public", abp_tags=[Tag(name="public")])


@blueprint.get("/health")
def health():
    """Liveness: answers whenever the app is serving, without asking the database."""
    return jsonify(status="ok")


@public.get("/status")
def status():
    """What a status page, or any other site, may read: no user data, no credentials."""
    return jsonify(status="ok")
