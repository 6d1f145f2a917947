"""WebSocket ``$connect``: authenticate ``?token=``, store the connection in room ``general``."""

from __future__ import annotations

import json
from typing import Any

from lambdas import runtime
from lambdas.contract.errors import Unauthorized
from lambdas.domain.tokens import verify_token
from lambdas.logs import add_keys, logger, with_context


@with_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    connection_id = event["requestContext"]["connectionId"]
    add_keys(connection_id=connection_id, route="$connect")
    token = (event.get("queryStringParameters") or {}).get("token")
    try:
        identity = verify_token(token, runtime.jwt_secret())
    except Unauthorized as refused:
        logger.info("connection refused", extra={"reason": refused.message})
        return {"statusCode": 401, "body": json.dumps({"error": refused.to_wire()})}
    runtime.connections().add(connection_id, identity)
    logger.info("connected", extra={"user_id": identity.user_id})
    return {"statusCode": 200}
