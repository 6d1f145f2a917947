"""WebSocket ``$connect``: authenticate ``?token=``, store the connection joined to its user's
rooms (``general`` for a new user); the user's first connection tells their chat partners that
the user is online."""

from __future__ import annotations

import json
from typing import Any

from lambdas import runtime
from lambdas.contract.errors import Unauthorized
from lambdas.contract.receipts import Presence
from lambdas.domain.sessions import open_connection
from lambdas.domain.signals import announce_presence
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
    s = runtime.settings()
    rooms = open_connection(
        runtime.connections(),
        runtime.user_rooms(),
        connection_id,
        identity,
        on_online=lambda: announce_presence(
            runtime.chats(),
            runtime.connections(),
            runtime.poster(),
            Presence(identity.user_id, True, None),
            s.receipts_fanout_max,
            s.presence_max_chats,
            identity.username,
        ),
    )
    logger.info("connected", extra={"user_id": identity.user_id, "rooms": len(rooms)})
    return {"statusCode": 200}
