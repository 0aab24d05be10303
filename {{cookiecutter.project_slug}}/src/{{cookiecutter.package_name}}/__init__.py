"""{{ cookiecutter.project_name }}: {{ cookiecutter.description }}"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

import click

from . import logs
from .cors.cli import cors_commands
from .cors.layer import init_app, refuse_other_cors
from .settings import DEPLOYED, Settings, load_settings

if TYPE_CHECKING:
    from .application import App


def create_app(settings: Settings | None = None) -> App:
    """Build the app from `settings`, or from the environment when none are given.

    Only the `flask` command (local development) reads .env: a server started with
    `gunicorn '{{ cookiecutter.package_name }}:create_app()'` never does, so a leftover .env cannot
    turn production into development. Of the `flask` commands, only `flask run` serves requests: the
    others, `flask cors probe` on a deploy machine say, need no SECRET_KEY{% if cookiecutter.database == "postgresql" %} nor DATABASE_URL{% endif %}.

    The routes and their schemas{% if cookiecutter.database == "postgresql" %}, and the database code,{% endif %} are imported here, when an app is built: gunicorn's
    master imports this package for its settings alone (gunicorn.conf.py), and refuses a bad one at once
    without loading pydantic{% if cookiecutter.database == "postgresql" %} and SQLAlchemy{% endif %}.
    """
    from flask_openapi3 import APIBlueprint, Info

    from . import {% if cookiecutter.auth != "none" %}auth, {% endif %}{% if cookiecutter.database == "postgresql" %}db, {% endif %}openapi{% if cookiecutter.database == "postgresql" %}, tenants{% endif %}
    from .api import blueprints
    from .application import App
    from .cors.caveats import log_caveats, startup_caveats
    from .errors import register_error_handlers, validation_error_response
{%- if cookiecutter.database == "postgresql" %}
    from .migrate import db_command
{%- endif %}

    if settings is None:
        from_cli = os.environ.get("FLASK_RUN_FROM_CLI") == "true"
        serving = not from_cli or _running_flask_run()
        settings = load_settings(dotenv_path=".env" if from_cli else None, serving=serving)
    # A `flask` command builds the app inside its click context: its stdout is the command's output
    # (`--json` included), so log lines go to stderr there.
    logs.configure(settings.log_format, sys.stderr if click.get_current_context(silent=True) else None)
    # What browsers will do otherwise than the policy says: cookies kept from other sites, preflight caches capped.
    samesite, deployed = settings.session_cookie_samesite, settings.environment in DEPLOYED
    log_caveats(startup_caveats(settings.policies, settings.api_origin, samesite, deployed=deployed))
    app = App(
        __name__,
        info=Info(title="{{ cookiecutter.project_name }}", version="0.1.0"),
        security_schemes={},  # none yet; left unset, the document would hold `securitySchemes: null`, invalid
        doc_ui=False,  # its pages use inline scripts: openapi.py serves the document and a page of ours
        static_folder=None,  # an API: no /static/ route
        validation_error_callback=validation_error_response,
    )
{%- if cookiecutter.database == "postgresql" %}
    if settings.tenant_origins:
        settings = tenants.with_tenant_origins(settings, app)
{%- endif %}
    app.extensions["settings"] = settings
    # The session cookie: sent over https only where deployed, never readable by scripts, and SameSite.
    app.config.update(
        SECRET_KEY=settings.secret_key,
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE=settings.session_cookie_samesite,
    )
    init_app(app, settings)
    app.cli.add_command(cors_commands)
{%- if cookiecutter.database == "postgresql" %}
    db.init_app(app, settings.database)
    app.cli.add_command(db_command)
{%- endif %}
{%- if cookiecutter.auth != "none" %}
    auth.init_app(app)
{%- endif %}
    register_error_handlers(app)
    for blueprint in blueprints:
        # A plain Flask Blueprint works too: its routes are served, checked by the CORS layer, but not described.
        if isinstance(blueprint, APIBlueprint):
            app.register_api(blueprint)
        else:
            app.register_blueprint(blueprint)
    if settings.api_docs:
        app.register_blueprint(openapi.blueprint)
    refuse_other_cors(app)
    return app


def _running_flask_run() -> bool:
    """Whether the `flask` command building the app is `flask run`, which loads it from its own context."""
    context = click.get_current_context(silent=True)
    return context is not None and context.info_name == "run"
