"""bcrypt password hashing."""

from __future__ import annotations

import functools
import secrets

import bcrypt

__all__ = ["hash_password", "verify_against_nothing", "verify_password"]


def hash_password(password: str, rounds: int) -> str:
    """bcrypt hash of ``password`` at cost ``rounds``, as text."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    """Whether ``password`` matches ``password_hash``."""
    try:
        return bcrypt.checkpw(password.encode("utf-8"), password_hash.encode("ascii"))
    except ValueError:  # over 72 bytes, or a malformed hash
        return False


@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(secrets.token_bytes(16).hex().encode(), bcrypt.gensalt(rounds=rounds))


def verify_against_nothing(password: str, rounds: int) -> bool:
    """Spend the time of one verification at cost ``rounds`` and answer False.

    A login for an unknown e-mail then costs as much bcrypt time as one with a wrong password,
    so response times do not reveal whether the e-mail exists.
    """
    candidate = password.encode("utf-8", "surrogatepass")[:72]
    bcrypt.checkpw(candidate, _dummy_hash(rounds))
    return False
