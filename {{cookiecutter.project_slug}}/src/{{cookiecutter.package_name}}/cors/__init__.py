"""The CORS machinery: origin rules, policies, the WSGI layer that applies them, and `flask cors`.

A team rarely opens these files. What it edits is policies.py, which declares each path's policy
with `Policy`, the one name exported here; create_app() installs the layer (layer.py).
"""

from .policy import Policy

__all__ = ["Policy"]
