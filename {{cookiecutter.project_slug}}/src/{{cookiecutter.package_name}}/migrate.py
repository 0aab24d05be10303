"""`flask db`: Alembic's commands for this app's database, with no alembic.ini to keep in step.

    flask --app {{ cookiecutter.package_name }} db upgrade head        once per deploy, before the new version serves
    flask --app {{ cookiecutter.package_name }} db revision --autogenerate -m "add a column"
    flask --app {{ cookiecutter.package_name }} db check               do models.py and the migrations agree?

Every option of the `alembic` command works (`flask db --help`); the database is the app's own
(DATABASE_URL, settings.py), the scripts are in migrations/ inside the package, so they ship with it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import click
from flask import current_app
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config() -> Config:
    """Alembic's configuration, made here rather than read from an ini file; migrations/env.py
    connects through the current app's engine. Alembic is imported here, by the commands that use it: every
    process that imports the app (each gunicorn worker, each test's subprocess) would pay for it otherwise."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # A new revision script comes out as ruff would leave it.
    config.set_section_option("post_write_hooks", "hooks", "ruff")
    config.set_section_option("post_write_hooks", "ruff.type", "module")
    config.set_section_option("post_write_hooks", "ruff.module", "ruff")
    config.set_section_option("post_write_hooks", "ruff.options", "format REVISION_SCRIPT_FILENAME")
    return config


@click.command(
    "db", context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}
)
@click.argument("arguments", nargs=-1, type=click.UNPROCESSED)
def db_command(arguments: tuple[str, ...]) -> None:
    """Alembic's commands on the app's database: upgrade, downgrade, revision, check, current, history..."""
    # Alembic announces each of its plugins at INFO as it loads them, on every command: noise beside what the
    # migrations say.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    from alembic.config import CommandLine

    alembic = CommandLine(prog="flask db")
    options = alembic.parser.parse_args(arguments)
    if not hasattr(options, "cmd"):
        alembic.parser.error("too few arguments: flask db upgrade head, flask db check, flask db --help")
    try:
        alembic.run_cmd(alembic_config(), options)
    except SQLAlchemyError as error:
        # A migration that fails stops here, with the database's own words and not a traceback; on
        # PostgreSQL (transactional DDL) nothing of it was applied. The deploy stops: its exit status is 1.
        url = make_url(current_app.extensions["settings"].database.url).render_as_string(hide_password=True)
        cause = getattr(error, "orig", None) or error
        raise click.ClickException(f"migration failed on {url}: {type(cause).__name__}: {str(cause).strip()}") from None
