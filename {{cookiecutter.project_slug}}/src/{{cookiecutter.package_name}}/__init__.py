"""{{ cookiecutter.project_name }}: {{ cookiecutter.description }}"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import cors, logs
from .api import blueprint as api_blueprint
from .cli import cors_commands
from .errors import register_error_handlers
from .settings import Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app from `settings`, or from the environment and .env when none are given."""
    settings = settings or load_settings()
    logs.configure(settings.log_format)
    app = Flask(__name__)
    app.extensions["settings"] = settings
    cors.init_app(app, settings)
    app.cli.add_command(cors_commands)
    register_error_handlers(app)
    app.register_blueprint(api_blueprint)
    if settings.trusted_proxy_hops:
        # Behind that many proxies, the client's address and scheme are in their X-Forwarded-For and
        # X-Forwarded-Proto. Wrapped last, so that every other layer, the CORS layer included, sees them.
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    return app
