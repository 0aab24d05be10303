"""The CORS machinery: origin rules, policies, the WSGI layer that applies them, and `flask cors`.

A team rarely opens these files. What it edits is policies.py (which paths get which policy, with
`Policy`), settings.py and the routes; create_app() calls `init_app` and `refuse_other_cors`.
"""

from .layer import CorsConflict, init_app, refuse_other_cors
from .policy import Policy

__all__ = ["CorsConflict", "Policy", "init_app", "refuse_other_cors"]
