"""`flask users create EMAIL` and `flask users set-password EMAIL`: accounts, made where the app's database is.

The password is read from the terminal without echo, twice, never from an argument (which would stay in
the shell's history and in the process list).
"""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from .. import db
from . import passwords
from .models import User, normalise_email
from .{{ "sessions" if cookiecutter.auth == "session" else "tokens" }} import end_everywhere

users_commands = AppGroup("users", help="Accounts that can sign in.")


def _password() -> str:
    password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < passwords.SHORTEST_PASSWORD:
        raise click.BadParameter(f"use {passwords.SHORTEST_PASSWORD} characters or more", param_hint="password")
    return password


@users_commands.command("create")
@click.argument("email", callback=lambda ctx, param, value: normalise_email(value))
def create(email: str):
    """Add an account that signs in with EMAIL and a password typed at the prompt."""
    session = db.session()
    if session.scalar(select(User).where(User.email == email)) is not None:
        raise click.ClickException(f"{email} has an account already: flask users set-password {email}")
    session.add(User(email=email, password_hash=passwords.hash_password(_password())))
    session.commit()
    click.echo(f"Created {email}.")


@users_commands.command("set-password")
@click.argument("email", callback=lambda ctx, param, value: normalise_email(value))
def set_password(email: str):
    """Give EMAIL's account a new password, typed at the prompt, and sign it out everywhere."""
    session = db.session()
    user = session.scalar(select(User).where(User.email == email))
    if user is None:
        raise click.ClickException(f"{email} has no account: flask users create {email}")
    user.password_hash = passwords.hash_password(_password())
    end_everywhere(user)
    session.commit()
    click.echo(f"New password for {email}; every sign-in of it has ended.")
