"""Sign-in with a bearer token: a short-lived JSON Web Token the front end sends as `Authorization: Bearer ...`.

No cookie is involved, so the CORS policy needs no credentials, only `Authorization` among its allowed
headers (the header makes every call preflighted; settings.py refuses to start without it). Tokens are
signed with SECRET_KEY by HMAC-SHA256 (PyJWT), and only that algorithm is accepted: a token that says
"alg": "none", or any other algorithm, is refused. Each one names its audience and issuer (this API), its
user, when it expires (TOKEN_LIFETIME seconds after it was issued) and the user's token_version: a logout
or a new password raises that version, which ends every token the user holds.

Keep tokens out of localStorage if a script from another source could run on the page: in memory, they
last until the page is reloaded, and the front end signs in again.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
from flask import Response, current_app, jsonify, request
from werkzeug.datastructures import WWWAuthenticate

from .. import db
from .models import User

ALGORITHM = "HS256"
# Who issues the tokens and who they are for: this API, and no other service signed with the same key.
AUDIENCE = ISSUER = "{{ cookiecutter.project_slug }}"
CLAIMS = ["exp", "iat", "sub", "aud", "iss", "ver"]
# What a 401 says it wants (RFC 6750).
CHALLENGE = WWWAuthenticate("bearer")


def authenticate() -> User | None:
    """The user of a valid, unexpired, unrevoked token in the request's Authorization header, if any."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    try:
        claims = jwt.decode(
            token,
            current_app.extensions["settings"].secret_key,
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": CLAIMS},
        )
        user = db.session().get(User, int(claims["sub"]))
    except (jwt.InvalidTokenError, ValueError):
        return None
    return user if user is not None and claims["ver"] == user.token_version else None


def signed_in(user: User, body: dict) -> Response:
    """`body` with a new access token for `user`."""
    lifetime = current_app.extensions["settings"].login.lifetime
    now = datetime.now(UTC)
    claims = {
        "sub": str(user.id),
        "aud": AUDIENCE,
        "iss": ISSUER,
        "iat": now,
        "exp": now + timedelta(seconds=lifetime),
        "ver": user.token_version,
    }
    token = jwt.encode(claims, current_app.extensions["settings"].secret_key, algorithm=ALGORITHM)
    return jsonify({**body, "access_token": token, "token_type": "Bearer", "expires_in": lifetime})


def signed_out(user: User, *, everywhere: bool = True) -> Response:
    """End every token of `user`: a token cannot be taken back one at a time, its version can."""
    end_everywhere(user)
    db.session().commit()
    return Response(status=204)


def end_everywhere(user: User) -> None:
    user.token_version += 1
