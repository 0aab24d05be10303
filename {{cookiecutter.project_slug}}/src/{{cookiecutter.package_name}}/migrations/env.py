"""Alembic runs this for every command: the app's engine, models.py's tables."""

from alembic import context
from flask import current_app
from sqlalchemy import text

from {{ cookiecutter.package_name }} import db
from {{ cookiecutter.package_name }}.models import Base

# Any constant: two deploys migrating at once (two pods starting, say) take turns on PostgreSQL.
MIGRATION_LOCK = 7_351_001


def run_migrations() -> None:
    with db.engine(current_app).connect() as connection:
        context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            context.run_migrations()


run_migrations()
