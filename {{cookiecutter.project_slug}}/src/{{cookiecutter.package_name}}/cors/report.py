"""The policies in force as data: each setting with its value and source, and the routes it decides for.

`flask cors show` prints it (as a table, or as JSON); the playground shows it beside its page.
"""

from __future__ import annotations

from flask import Flask

from . import layer
from .policy import policy_for


def policy_report(app: Flask) -> dict:
    """The environment and each policy's settings, sources and routes, as data."""
    state: layer.CorsState = app.extensions[layer.STATE_KEY]
    routes = sorted(app.url_map.iter_rules(), key=lambda rule: rule.rule)
    policies = []
    for policy in state.policies:
        values = {
            "ORIGINS": policy.allowlist.describe(),
            "ALLOW_CREDENTIALS": policy.allow_credentials,
            "ALLOW_METHODS": list(policy.allow_methods),
            "ALLOW_HEADERS": list(policy.allow_headers),
            "EXPOSE_HEADERS": list(policy.expose_headers),
            "MAX_AGE": policy.max_age,
            "ALLOW_PRIVATE_NETWORK": policy.allow_private_network,
        }
        dynamic = policy.declaration.dynamic_origins_name
        if dynamic is not None:
            values["DYNAMIC_TTL"] = policy.dynamic_ttl
        settings = {}
        for setting, value in values.items():
            variable = policy.variable(setting)
            source = policy.sources.get(variable, "policies.py (public)")
            settings[variable] = {"value": value, "source": source}
        policies.append(
            {
                "name": policy.name,
                "prefix": policy.prefix,
                "public": policy.public,
                "dynamic_origins": dynamic,
                "settings": settings,
                "routes": [
                    {"path": rule.rule, "methods": sorted(rule.methods - {"HEAD", "OPTIONS"})}
                    for rule in routes
                    if policy_for(state.policies, rule.rule) is policy
                ],
            }
        )
    sources = app.extensions["settings"].sources
    return {
        "APP_ENV": {"value": state.environment, "source": sources["APP_ENV"]},
        "policies": policies,
        "cross_origin_writes": {
            "refused": "any method but GET, HEAD and OPTIONS from pages at origins the path's policy does not allow",
            "CROSS_SITE_WRITE_EXEMPT_PATHS": {
                "value": list(state.writes.exempt_paths),
                "source": sources["CROSS_SITE_WRITE_EXEMPT_PATHS"],
            },
        },
    }
