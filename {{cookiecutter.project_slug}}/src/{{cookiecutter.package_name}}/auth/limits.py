"""Guessing limits: failed sign-ins counted per account and per client address, in the database, so that the
limit holds across gunicorn's workers and across replicas.

Within LOGIN_ATTEMPTS_WINDOW seconds, an account takes LOGIN_ATTEMPTS_PER_ACCOUNT failures and an address
LOGIN_ATTEMPTS_PER_ADDRESS; the next attempt is refused (429, with Retry-After) before the password is
checked, whether it is right or not. An unknown address counts like a known one: the answer never tells
which accounts exist.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..settings import LoginSettings
from .models import LoginAttempt


def keys(email: str, address: str | None) -> dict[str, str]:
    """The counters an attempt is recorded against, by kind."""
    return {"account": f"account:{email}", "address": f"address:{address or 'unknown'}"}


def retry_after(session: Session, limits: LoginSettings, counters: dict[str, str]) -> int | None:
    """Seconds until the next attempt may be made, when a counter is at its limit; None when it may be made now."""
    now = datetime.now(UTC)
    since = now - timedelta(seconds=limits.attempts_window)
    waits = []
    for kind, limit in (("account", limits.attempts_per_account), ("address", limits.attempts_per_address)):
        recent = select(LoginAttempt.at).where(LoginAttempt.key == counters[kind], LoginAttempt.at > since)
        attempts = sorted(session.scalars(recent))
        if len(attempts) >= limit:
            # The attempt that frees a place is the one `limit` places back from the newest.
            frees_at = attempts[-limit] + timedelta(seconds=limits.attempts_window)
            waits.append(max(1, math.ceil((frees_at - now).total_seconds())))
    return max(waits) if waits else None


def record_failure(session: Session, limits: LoginSettings, counters: dict[str, str]) -> None:
    """Count a failed attempt against each counter, and forget the attempts that have left every window."""
    now = datetime.now(UTC)
    session.execute(delete(LoginAttempt).where(LoginAttempt.at <= now - timedelta(seconds=limits.attempts_window)))
    session.add_all(LoginAttempt(key=key, at=now) for key in counters.values())
    session.commit()


def forget_account(session: Session, counters: dict[str, str]) -> None:
    """After a successful sign-in the account's failures no longer count (the address's still do)."""
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == counters["account"]))
