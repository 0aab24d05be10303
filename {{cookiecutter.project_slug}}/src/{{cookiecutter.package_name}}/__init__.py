"""{{ cookiecutter.project_name }}: {{ cookiecutter.description }}"""

from __future__ import annotations

import os
import sys

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import logs
from .api import blueprints
from .cors.cli import cors_commands
from .cors.layer import init_app, refuse_other_cors
from .errors import register_error_handlers
from .settings import Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app from `settings`, or from the environment when none are given.

    Only the `flask` command (local development) reads .env: a server started with
    `gunicorn '{{ cookiecutter.package_name }}:create_app()'` never does, so a leftover .env cannot
    turn production into development. Of the `flask` commands, only `flask run` serves requests: the
    others, `flask cors probe` on a deploy machine say, need no SECRET_KEY.
    """
    if settings is None:
        from_cli = os.environ.get("FLASK_RUN_FROM_CLI") == "true"
        serving = not from_cli or _running_flask_run()
        settings = load_settings(dotenv_path=".env" if from_cli else None, serving=serving)
    # A `flask` command builds the app inside its click context: its stdout is the command's output
    # (`--json` included), so log lines go to stderr there.
    logs.configure(settings.log_format, sys.stderr if click.get_current_context(silent=True) else None)
    app = Flask(__name__)
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
    register_error_handlers(app)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    refuse_other_cors(app)
    if settings.trusted_proxy_hops:
        # Behind that many proxies, the client's address, scheme and host are in their X-Forwarded-For,
        # X-Forwarded-Proto and X-Forwarded-Host (a proxy that rewrites Host sends the client's there).
        # Wrapped last, so that every other layer, the CORS layer and its write check included, sees them.
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def _running_flask_run() -> bool:
    """Whether the `flask` command building the app is `flask run`, which loads it from its own context."""
    context = click.get_current_context(silent=True)
    return context is not None and context.info_name == "run"
