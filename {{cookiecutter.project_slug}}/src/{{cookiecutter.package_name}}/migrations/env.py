"""Alembic runs this for every command: the app's engine, models.py's tables."""

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from flask import current_app
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from {{ cookiecutter.package_name }} import db
from {{ cookiecutter.package_name }}.models import Base

# Any constant: two deploys migrating at once (two pods starting, say) take turns on PostgreSQL.
MIGRATION_LOCK = 7_351_001


@contextmanager
def foreign_keys_unchecked_on_sqlite(connection: Connection) -> Iterator[None]:
    """SQLite changes a table by copying it and dropping the original (Alembic's batch mode): foreign keys checked
    meanwhile would refuse to drop a table that rows point to. Unchecked for the migrations, as SQLite lets them
    be switched only outside a transaction; checked again after, as db.py has every connection check them."""
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        connection.exec_driver_sql("PRAGMA foreign_keys = OFF")
        connection.commit()
    try:
        yield
    finally:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys = ON")
            connection.commit()


def run_migrations() -> None:
    with db.engine(current_app).connect() as connection, foreign_keys_unchecked_on_sqlite(connection):
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            context.run_migrations()
            if connection.dialect.name == "sqlite":
                refuse_rows_pointing_at_nothing(connection)


def refuse_rows_pointing_at_nothing(connection: Connection) -> None:
    """With its checks off, SQLite lets a migration leave a row pointing at nothing, which PostgreSQL refuses: the
    migration fails here as it would there."""
    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if dangling:
        found = ", ".join(f"{table} row {row} to {parent}" for table, row, parent, _ in dangling)
        refusal = sqlite3.IntegrityError(f"rows point at nothing: {found}")
        raise IntegrityError("PRAGMA foreign_key_check", None, refusal)


run_migrations()
