"""REST ``POST /login``: check credentials, issue a token."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import rest_endpoint
from lambdas.contract.validation import parse_login
from lambdas.domain.users import login


@rest_endpoint
def handler(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    settings = runtime.settings()
    result = login(
        runtime.users(),
        parse_login(body),
        secret=runtime.jwt_secret(),
        ttl_seconds=settings.token_ttl_seconds,
        bcrypt_rounds=settings.bcrypt_rounds,
    )
    return 200, result.to_wire()
