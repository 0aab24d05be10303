"""Who is calling: the signed-in user of a request, and `login_required` for the routes that need one.

How a user signs in is the template's answer, in one module: {% if cookiecutter.auth == "session" %}sessions.py, an HttpOnly cookie
naming a session the server keeps, so that logout and a new password end it everywhere{% else %}tokens.py, a short-lived
signed token the front end sends in an Authorization header, ended by logout or a new password{% endif %}. The
routes are api/auth.py; `flask users create` adds an account (cli.py).
"""

from __future__ import annotations

import functools
{%- if cookiecutter.auth == "token" %}
import logging
{%- endif %}
from collections.abc import Callable

from flask import Flask, g
from werkzeug.exceptions import Unauthorized

{% if cookiecutter.auth == "token" -%}
from ..cors.policy import policy_for
from ..settings import AUTH_PATH
{% endif -%}
from .cli import users_commands
from .models import User
from .{{ "sessions" if cookiecutter.auth == "session" else "tokens" }} import CHALLENGE, authenticate

__all__ = ["User", "current_user", "init_app", "login_required"]
{%- if cookiecutter.auth == "token" %}

LOG = logging.getLogger(__name__)
{%- endif %}


def init_app(app: Flask) -> None:
    """`flask users`{% if cookiecutter.auth == "token" %}, and a warning when the sign-in routes' policy allows credentials that tokens never need{% endif %}."""
    app.cli.add_command(users_commands)
{%- if cookiecutter.auth == "token" %}
    policy = policy_for(app.extensions["settings"].policies, AUTH_PATH)
    if policy is not None and policy.allow_credentials:
        variable = policy.variable("ALLOW_CREDENTIALS")
        LOG.warning(
            "%s=true, yet users sign in with tokens, which need no credentials: with them, every page the "
            "policy allows may also call the API with the user's cookies. Set %s=false unless a cookie needs it",
            variable,
            variable,
        )
{%- endif %}


def current_user() -> User | None:
    """The request's signed-in user, looked up once per request; None when it carries no valid sign-in."""
    if "user" not in g:
        g.user = authenticate()
    return g.user


def login_required(view: Callable) -> Callable:
    """Answer 401 to a request without a signed-in user before `view` runs."""

    @functools.wraps(view)
    def signed_in_only(*args, **kwargs):
        if current_user() is None:
            raise Unauthorized("Sign in first: POST /api/auth/login.", www_authenticate=CHALLENGE)
        return view(*args, **kwargs)

    return signed_in_only
