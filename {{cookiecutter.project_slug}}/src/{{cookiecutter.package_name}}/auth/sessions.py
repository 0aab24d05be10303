"""Sign-in with a session cookie: the cookie holds a random token, the server keeps the session it names.

The server's record is what makes a session revocable: logout deletes it, and a new password deletes every
session of the user, in every browser, at once (a signed cookie alone would stay valid until it expired).
The database keeps only the token's SHA-256, so its contents let no one sign in. Each sign-in starts a
new session under a new token, never the one the browser came with.

The cookie is HttpOnly (no script reads it), Secure where deployed, SameSite as SESSION_COOKIE_SAMESITE
says, and there named with the `__Host-` prefix, which browsers accept only from https, for the exact
host, on path / : no other subdomain can set or shadow it. A front end sends it with
`fetch(url, {credentials: "include"})`, which the CORS policy of /api/auth/ must allow (settings.py
refuses to start otherwise).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask import Response, current_app, jsonify, request
from sqlalchemy import ForeignKey, String, delete
from sqlalchemy.orm import Mapped, mapped_column

from .. import db
from ..models import Base
from .models import User, UTCDateTime

# What a 401 says it wants: HTTP has no authentication scheme for a cookie, so it names none.
CHALLENGE = None


class UserSession(Base):
    """A signed-in browser: the SHA-256 of its cookie's token, whose session it is, and until when."""

    __tablename__ = "user_session"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


def cookie_name() -> str:
    return "__Host-session" if current_app.extensions["settings"].secure_cookies else "session_id"


def _cookie_attributes() -> dict[str, object]:
    """Every path; https only where deployed; never readable by scripts; SameSite as SESSION_COOKIE_SAMESITE says."""
    settings = current_app.extensions["settings"]
    return {
        "path": "/",
        "secure": settings.secure_cookies,
        "httponly": True,
        "samesite": settings.session_cookie_samesite,
    }


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _current_session() -> UserSession | None:
    token = request.cookies.get(cookie_name())
    if not token:
        return None
    found = db.session().get(UserSession, _digest(token))
    if found is None or found.expires_at <= datetime.now(UTC):
        return None
    return found


def authenticate() -> User | None:
    """The user whose live session the request's cookie names, if any."""
    found = _current_session()
    return db.session().get(User, found.user_id) if found else None


def signed_in(user: User, body: dict) -> Response:
    """Start a new session for `user` (ending the one this browser had) and answer `body` with its cookie."""
    settings = current_app.extensions["settings"]
    session = db.session()
    previous = _current_session()
    if previous is not None:
        session.delete(previous)
    token = secrets.token_urlsafe(32)
    lifetime = settings.login.lifetime
    expires_at = datetime.now(UTC) + timedelta(seconds=lifetime)
    session.add(UserSession(id=_digest(token), user_id=user.id, expires_at=expires_at))
    session.commit()
    response = jsonify(body)
    response.set_cookie(cookie_name(), token, max_age=lifetime, **_cookie_attributes())
    return response


def signed_out(user: User, *, everywhere: bool = False) -> Response:
    """End this browser's session (every session of `user`, `everywhere`) and remove its cookie."""
    session = db.session()
    found = _current_session()
    if everywhere:
        end_everywhere(user)
    elif found is not None:
        session.delete(found)
    session.commit()
    response = Response(status=204)
    response.delete_cookie(cookie_name(), **_cookie_attributes())
    return response


def end_everywhere(user: User) -> None:
    """End every session of `user`, in every browser: after a new password, say."""
    db.session().execute(delete(UserSession).where(UserSession.user_id == user.id))
