"""bcrypt password hashing."""

from __future__ import annotations

import functools
import secrets

import bcrypt

__all__ = ["hash_password", "verify_against_nothing", "verify_password"]


def hash_password(password: str, rounds: int) -> str:
    """bcrypt hash of ``password`` at cost ``rounds``, as text."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds=rounds)).decode("ascii")


MAX_BYTES = 72  # bcrypt reads no further (bcrypt 5 refuses longer input)


def _candidate(password: str) -> tuple[bytes, bool]:
    """The bytes bcrypt checks — at most 72, a lone surrogate kept as its code unit — and
    whether they are the whole password as valid UTF-8 (only then can it match: signup
    accepts no other)."""
    encoded = password.encode("utf-8", "surrogatepass")
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        return encoded[:MAX_BYTES], False
    return encoded[:MAX_BYTES], len(encoded) <= MAX_BYTES


def verify_password(password: str, password_hash: str) -> bool:
    """Whether ``password`` matches ``password_hash``.

    Every password costs one bcrypt check, whatever it holds: one that can never match (over
    72 bytes, a lone surrogate) is checked all the same, so a login's time tells nothing about
    whether the e-mail exists (an unknown one costs ``verify_against_nothing``, the same).
    """
    candidate, whole = _candidate(password)
    try:
        matched = bcrypt.checkpw(candidate, password_hash.encode("ascii"))
    except ValueError:  # a malformed stored hash never matches
        return False
    return matched and whole


@functools.cache
def _dummy_hash(rounds: int) -> bytes:
    return bcrypt.hashpw(secrets.token_bytes(16).hex().encode(), bcrypt.gensalt(rounds=rounds))


def verify_against_nothing(password: str, rounds: int) -> bool:
    """Spend the time of one verification at cost ``rounds`` and answer False.

    A login for an unknown e-mail then costs as much bcrypt time as one with a wrong password,
    so response times do not reveal whether the e-mail exists.
    """
    bcrypt.checkpw(_candidate(password)[0], _dummy_hash(rounds))
    return False
