"""Password hashes: argon2id (argon2-cffi, RFC 9106's recommended profile), and a check that costs the same
whether the account exists or not, so that timing does not tell which addresses have one."""

from __future__ import annotations

import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

# Shorter passwords are refused when they are set (NIST SP 800-63B asks for at least 8; 12 leaves a margin).
SHORTEST_PASSWORD = 12
# The library's defaults follow RFC 9106's second recommended option (64 MiB, 3 passes). Tests swap in a
# cheap hasher; production never does.
hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return hasher.hash(password)


@functools.cache
def _unknown_account_hash() -> str:
    """A hash of no one's password, checked for an unknown address so that it takes as long as a known one."""
    return hasher.hash(secrets.token_urlsafe(32))


def verify(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches `password_hash`; None (no such account) is checked, and refused, all the same."""
    try:
        return hasher.verify(password_hash or _unknown_account_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's: it is replaced at the next sign-in."""
    return hasher.check_needs_rehash(password_hash)
