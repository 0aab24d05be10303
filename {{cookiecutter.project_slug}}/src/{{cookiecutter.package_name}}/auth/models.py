"""The users' tables: who may sign in, and the failed attempts that the guessing limits count."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, String
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from ..models import Base


class UTCDateTime(TypeDecorator[datetime]):
    """A moment in UTC, given back with its time zone by every database (SQLite keeps none of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def normalise_email(email: str) -> str:
    """One account per address, whatever case it is typed in."""
    return email.strip().lower()


class User(Base):
    """Someone who signs in with an email address and a password (`flask users create`)."""

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Lowercase, as normalise_email leaves it: one account per address, whatever its case.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # argon2id, with its parameters and salt (passwords.py); never the password itself.
    password_hash: Mapped[str] = mapped_column(String(200))
{%- if cookiecutter.auth == "token" %}
    # Every token names the version it was issued for: a logout or a new password raises it, ending them all.
    token_version: Mapped[int] = mapped_column(default=0)
{%- endif %}


class LoginAttempt(Base):
    """A failed sign-in, counted against the account and the client address it came from (limits.py)."""

    __tablename__ = "login_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    # "account:<email>" or "address:<client IP>".
    key: Mapped[str] = mapped_column(String(400), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
