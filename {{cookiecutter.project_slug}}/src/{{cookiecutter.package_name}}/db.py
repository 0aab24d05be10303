"""The database: one engine per process, one session per request.

gunicorn forks its workers from a master that may have imported the app: a connection opened before
the fork would be shared by every worker, their queries interleaved on one socket. So the engine is
made on first use in each process (the process id is checked), never at import or in create_app().
"""

from __future__ import annotations

import os

from flask import Flask, Response, current_app, g
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from werkzeug.exceptions import Conflict

from .errors import http_error_response
from .settings import DatabaseSettings, database_required

STATE_KEY = "database"

# The constraint failures that are a request's conflict with what is stored: PostgreSQL's SQLSTATEs and
# SQLite's error names for a unique value already taken and a row others point to (or a missing one pointed to).
CONFLICTS = frozenset(
    {"23505", "23503", "SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_FOREIGNKEY"}
)


class Database:
    """The engine and session factory of one app, made in the process that uses them."""

    def __init__(self, settings: DatabaseSettings):
        self.settings = settings
        self._made: tuple[int, Engine, sessionmaker[Session]] | None = None

    @property
    def engine(self) -> Engine:
        return self._in_this_process()[1]

    def session(self) -> Session:
        return self._in_this_process()[2]()

    def _in_this_process(self) -> tuple[int, Engine, sessionmaker[Session]]:
        if not self.settings.url:  # left unset by a command that was to need no database
            raise database_required("for this command")
        if self._made is None or self._made[0] != os.getpid():
            engine = make_engine(self.settings)
            # expire_on_commit=False: a view may serialise what it has just committed without a second query.
            self._made = (os.getpid(), engine, sessionmaker(engine, expire_on_commit=False))
        return self._made


def make_engine(settings: DatabaseSettings) -> Engine:
    """An engine whose pool checks each connection before use (pre-ping), so a restarted database server
    costs a reconnect, not an error. In-memory SQLite (`sqlite://`, tests) keeps one connection: each new
    one would be a new, empty database."""
    url = make_url(settings.url)
    if url.get_backend_name() == "sqlite":
        memory = url.database in (None, "", ":memory:")
        pool = {"poolclass": StaticPool} if memory else {}
        engine = create_engine(url, connect_args={"check_same_thread": False}, pool_pre_ping=True, **pool)
        event.listen(engine, "connect", _enforce_foreign_keys)
        return engine
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.pool_size,
        max_overflow=settings.max_overflow,
        pool_timeout=settings.pool_timeout,
    )


def _enforce_foreign_keys(connection, _record) -> None:
    """SQLite checks foreign keys only on connections that ask: each one asks, so that a row still pointed to
    is kept on a developer's machine as PostgreSQL keeps it, not deleted to leave the rows pointing at nothing."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def init_app(app: Flask, settings: DatabaseSettings) -> None:
    app.extensions[STATE_KEY] = Database(settings)
    app.teardown_appcontext(_close_session)
    app.register_error_handler(IntegrityError, _conflict)


def _conflict(error: IntegrityError) -> Response:
    """A write that a unique or foreign key refuses is a 409; the database's own words go to the log, not to the
    client. Any other refusal (a NULL where none is allowed) is a bug in the view: raised again, a 500."""
    pending = g.get("db_session")
    if pending is not None:
        pending.rollback()  # usable again by whatever runs after the view, an after_request hook say
    kind = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "sqlite_errorname", None)
    if kind not in CONFLICTS:
        raise error
    current_app.logger.warning("The database refused a write: %s", str(error.orig).strip())
    return http_error_response(
        Conflict("This change conflicts with what is stored: a value already taken, or a row others point to.")
    )


def session() -> Session:
    """This request's session: opened on first use, closed (rolled back unless committed) when the request ends."""
    if "db_session" not in g:
        g.db_session = current_app.extensions[STATE_KEY].session()
    return g.db_session


def engine(app: Flask) -> Engine:
    """The app's engine, for migrations and tests."""
    return app.extensions[STATE_KEY].engine


def _close_session(_error: BaseException | None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
