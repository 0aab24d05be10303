"""TENANT_ORIGINS=true: the tenant table's origins are allowed by the default policy, read from the database."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask

from {{ cookiecutter.package_name }} import create_app, db
from {{ cookiecutter.package_name }}.cors import Policy
from {{ cookiecutter.package_name }}.models import Tenant
from {{ cookiecutter.package_name }}.policies import POLICIES
from {{ cookiecutter.package_name }}.settings import SettingsError

import conftest

TENANT = "https://shop.tenant-42.example"
OTHER = "https://shop.tenant-43.example"
# The switch on, a listed front end beside.
TENANTS_ON = {"APP_ENV": "testing", "CORS_ORIGINS": "https://app.example.com", "TENANT_ORIGINS": "true"}
# policies.py's policies without a dynamic_origins of their own, which TENANT_ORIGINS=true would refuse.
OWN_POLICIES = tuple(replace(declaration, dynamic_origins=None) for declaration in POLICIES)


def tenants_app(**variables: str) -> Flask:
    return create_app(conftest.settings_from({"SECRET_KEY": conftest.SECRET_KEY, **variables}, None, OWN_POLICIES))


@pytest.fixture
def tenant_app(database_url):
    """The tenant switch on, each answer asked again at once (CORS_DYNAMIC_TTL=0); the database made by its
    migrations (in memory: from models.py)."""
    app = conftest.with_tables(tenants_app(**TENANTS_ON, CORS_DYNAMIC_TTL="0", DATABASE_URL=database_url))
    yield app
    conftest.without_tables(app)


def allowed(app, origin: str) -> str | None:
    return app.test_client().get("/api/health", headers={"Origin": origin}).headers.get("Access-Control-Allow-Origin")


def add_tenant(app, origin: str) -> Tenant:
    with app.app_context():
        tenant = Tenant(name="one", origin=origin)
        db.session().add(tenant)
        db.session().commit()
        return tenant


def test_a_tenant_s_origin_is_allowed_while_it_is_in_the_table(tenant_app):
    assert allowed(tenant_app, TENANT) is None
    tenant = add_tenant(tenant_app, TENANT)
    assert allowed(tenant_app, TENANT) == TENANT
    assert allowed(tenant_app, OTHER) is None
    assert allowed(tenant_app, "https://app.example.com") == "https://app.example.com"
    with tenant_app.app_context():
        db.session().delete(db.session().get(Tenant, tenant.id))
        db.session().commit()
    assert allowed(tenant_app, TENANT) is None  # CORS_DYNAMIC_TTL=0: asked again at once


def test_the_switch_is_off_by_default():
    app = tenants_app(APP_ENV="testing", CORS_ORIGINS="https://app.example.com")
    assert app.extensions["settings"].policy().declaration.dynamic_origins is None


def test_a_failing_lookup_refuses_the_origin_and_never_answers_500(caplog):
    app = tenants_app(**TENANTS_ON, DATABASE_URL="sqlite:////no-such-folder/tenants.sqlite3")
    response = app.test_client().get("/api/health", headers={"Origin": TENANT})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers
    assert "tenant_origins raised OperationalError" in caplog.text


def test_tenant_origins_and_a_dynamic_origins_of_policies_py_are_refused_together():
    declarations = (Policy("default", "/api/", dynamic_origins=lambda origin: False),)
    settings = conftest.settings_from(TENANTS_ON, declarations=declarations)
    with pytest.raises(SettingsError, match=r"TENANT_ORIGINS=true, and policies\.py"):
        create_app(settings)
