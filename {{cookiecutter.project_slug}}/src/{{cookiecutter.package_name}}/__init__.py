"""{{ cookiecutter.project_name }}: {{ cookiecutter.description }}"""

from __future__ import annotations

from flask import Flask

from . import cors
from .api import blueprint as api_blueprint
from .errors import register_error_handlers
from .settings import Settings, load_settings


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app from `settings`, or from the environment and .env when none are given."""
    settings = settings or load_settings()
    app = Flask(__name__)
    app.extensions["settings"] = settings
    cors.init_app(app, settings)
    register_error_handlers(app)
    app.register_blueprint(api_blueprint)
    return app
