"""REST ``POST /signup``: register a user (whose rooms start with ``general``)."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import rest_endpoint
from lambdas.contract.validation import parse_signup
from lambdas.domain.users import signup


@rest_endpoint
def handler(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    user = signup(runtime.users(), parse_signup(body), runtime.settings().bcrypt_rounds)
    runtime.user_rooms().welcome(user.user_id)
    return 201, user.to_wire()
