"""Tenants' own front ends: with TENANT_ORIGINS=true, the default policy also allows each origin in the
`tenant` table (models.Tenant), read through the app's own database session.

The CORS layer runs in front of Flask, outside any request: the lookup opens an app context of its own,
so it gets a session from db.py like any view and closes it at once. The layer asks only about Origins
the allowlist refuses, and remembers each answer for CORS_DYNAMIC_TTL seconds: one indexed query per new
Origin a minute, not one per request. A failing query refuses the Origin (logged), never answers 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from flask import Flask
from sqlalchemy import select

from . import db
from .cors.policy import DEFAULT_POLICY
from .models import Tenant
from .settings import Settings, SettingsError


def tenant_origins(app: Flask) -> Callable[[str], bool]:
    """origin -> whether a tenant's front end is at `origin`, in `app`'s database."""

    def tenant_origins(origin: str) -> bool:
        with app.app_context():
            return db.session().scalar(select(Tenant.id).where(Tenant.origin == origin).limit(1)) is not None

    return tenant_origins


def with_tenant_origins(settings: Settings, app: Flask) -> Settings:
    """`settings` whose default policy asks `app`'s tenant table about the Origins its allowlist refuses."""
    policies = []
    for policy in settings.policies:
        if policy.name == DEFAULT_POLICY:
            if policy.declaration.dynamic_origins is not None:
                raise SettingsError(
                    f"TENANT_ORIGINS=true, and policies.py gives the default policy dynamic_origins "
                    f"({policy.declaration.dynamic_origins_name}) too: keep one of them"
                )
            policy = replace(policy, declaration=replace(policy.declaration, dynamic_origins=tenant_origins(app)))
        policies.append(policy)
    return replace(settings, policies=tuple(policies))
