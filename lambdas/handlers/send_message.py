"""WebSocket ``sendMessage``: store the message (to a room, or to a chat of the user); the
broadcaster fans it out from the stream.

Attachments are checked against what the sender uploaded, taken out of the lifecycle rule's
reach and recorded as posted in the room (or chat) before the message is stored: a stored
message's files are never expired, and its room's members (chat's participants) may always
download them.
"""

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

    def attach(user_id: str) -> None:
        """Check the attachments, keep them from expiring, note where they are posted."""
        if request.attachments:
            media = runtime.media()
            media.check(user_id, request.attachments)
            media.mark_attached(request.attachments)
            runtime.messages().record_attachments(
                request.room_id, request.attachments, chat_id=request.chat_id
            )

    if request.chat_id is not None:
        message, duplicate = send_to_chat(
            runtime.connections(),
            runtime.chats(),
            runtime.messages(),
            connection_id,
            request,
            before_storing=attach,
        )
        return ack_send(message, duplicate=duplicate)
    assert request.room_id is not None
    sender = runtime.connections().member(connection_id, request.room_id)
    attach(sender.user_id)
    message, duplicate = runtime.messages().put(
        request.room_id,
        sender.user_id,
        sender.username,
        request.message,
        request.client_message_id,
        attachments=request.attachments,
    )
    return ack_send(message, duplicate=duplicate)
