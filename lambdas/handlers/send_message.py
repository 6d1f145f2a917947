"""WebSocket ``sendMessage``: store the message (to a room, or to a chat of the user); the
broadcaster fans it out from the stream."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import ws_route
from lambdas.contract.frames import ack_send
from lambdas.contract.validation import parse_send
from lambdas.domain.conversations import send_to_chat


@ws_route(action="sendMessage")
def handler(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
    request = parse_send(frame)
    if request.chat_id is not None:
        message, duplicate = send_to_chat(
            runtime.connections(), runtime.chats(), runtime.messages(), connection_id, request
        )
        return ack_send(message, duplicate=duplicate)
    assert request.room_id is not None
    sender = runtime.connections().member(connection_id, request.room_id)
    message, duplicate = runtime.messages().put(
        request.room_id,
        sender.user_id,
        sender.username,
        request.message,
        request.client_message_id,
    )
    return ack_send(message, duplicate=duplicate)
