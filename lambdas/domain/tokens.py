"""JWT access tokens: HS256, with ``sub``, ``username``, ``email``, ``iat`` and ``exp``."""

from __future__ import annotations

import jwt

from lambdas.contract.errors import Unauthorized
from lambdas.domain.identity import Identity

__all__ = ["ALGORITHM", "Identity", "issue_token", "verify_token"]

ALGORITHM = "HS256"


def issue_token(identity: Identity, secret: str, ttl_seconds: int, now: int) -> str:
    """A token for ``identity`` valid from ``now`` (epoch seconds) for ``ttl_seconds``."""
    claims = {
        "sub": identity.user_id,
        "username": identity.username,
        "email": identity.email,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(token: str | None, secret: str) -> Identity:
    """The identity in ``token``.

    Raises:
        Unauthorized: missing, malformed, signed with another key or algorithm (``none``
            included), expired, or lacking a claim.
    """
    if not token:
        raise Unauthorized("token is missing")
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["sub", "iat", "exp"]},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("token has expired") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("token is invalid") from None
    user_id, username, email = claims.get("sub"), claims.get("username"), claims.get("email")
    if not all(isinstance(v, str) and v for v in (user_id, username, email)):
        raise Unauthorized("token is invalid")
    return Identity(user_id=user_id, username=username, email=email)
