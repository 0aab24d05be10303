"""Signing in and out: login, logout, who is signed in, and a new password.

Login is a cross-origin write like any other: a page at an origin the policy of /api/auth/ does not allow
gets a 403 before this code runs (cors/writes.py). Failed attempts are limited per account and per client
address (auth/limits.py); an unknown address and a wrong password get the same answer, in about the same
time. Routes that need a signed-in user take `@login_required` (auth/__init__.py), as `me` does here.
"""

from __future__ import annotations

from flask import current_app, request
from flask_openapi3 import APIBlueprint, Tag
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from werkzeug.exceptions import Forbidden, HTTPException, TooManyRequests, Unauthorized

from .. import db
from ..auth import current_user, limits, login_required, passwords
from ..auth import {{ "sessions" if cookiecutter.auth == "session" else "tokens" }} as sign_in
from ..auth.models import User, normalise_email

blueprint = APIBlueprint("auth", __name__, url_prefix="/api/auth", abp_tags=[Tag(name="auth")])


class Credentials(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"email": "ada@example.com", "password": "a long passphrase"}]}
    )

    email: str = Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    password: str = Field(min_length=1, max_length=1024)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str


class SignedIn(BaseModel):
    user: UserOut
{%- if cookiecutter.auth == "token" %}
    # Send it as `Authorization: Bearer <access_token>` until it expires, then sign in again.
    access_token: str
    token_type: str = "Bearer"  # noqa: S105 (the scheme's name, not a secret)
    expires_in: int
{%- endif %}


class NewPassword(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"current_password": "a long passphrase", "new_password": "another long passphrase"}]
        },
    )

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=passwords.SHORTEST_PASSWORD, max_length=1024)


@blueprint.post("/login", responses={200: SignedIn})
def login(body: Credentials):
    """Sign in with an email address and a password."""
    email = normalise_email(body.email)
    session = db.session()
    user = session.scalar(select(User).where(User.email == email))
    counters = _check_password(
        user.password_hash if user else None, body.password, email, Unauthorized("Wrong email address or password.")
    )
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(body.password)
    limits.forget_account(session, counters)
    session.commit()
    return sign_in.signed_in(user, {"user": UserOut.model_validate(user).model_dump()})


@blueprint.post("/logout", responses={204: None})
@login_required
def logout():
    """Sign out{% if cookiecutter.auth == "session" %} this browser{% else %}: every token of the user ends{% endif %}."""
    return sign_in.signed_out(current_user())


@blueprint.get("/me", responses={200: UserOut})
@login_required
def me():
    """The signed-in user."""
    return UserOut.model_validate(current_user()).model_dump()


@blueprint.put("/password", responses={204: None})
@login_required
def change_password(body: NewPassword):
    """Change the password, which signs the user out everywhere, here included."""
    user = current_user()
    _check_password(user.password_hash, body.current_password, user.email, Forbidden("The current password is wrong."))
    user.password_hash = passwords.hash_password(body.new_password)
    return sign_in.signed_out(user, everywhere=True)


def _check_password(password_hash: str | None, password: str, email: str, wrong: HTTPException) -> dict[str, str]:
    """Check `password` within the guessing limits of the account and of the client's address: a 429 while
    either is spent (right password or not), `wrong`, counted, when it does not match. The limits'
    counters, for a caller that forgets the account's failures after a success."""
    settings = current_app.extensions["settings"].login
    counters = limits.keys(email, request.remote_addr)
    session = db.session()
    wait = limits.retry_after(session, settings, counters)
    if wait is not None:
        raise TooManyRequests("Too many failed attempts: try again later.", retry_after=wait)
    if not passwords.verify(password_hash, password):
        limits.record_failure(session, settings, counters)
        raise wrong
    return counters
