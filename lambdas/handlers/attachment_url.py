"""WebSocket ``getAttachmentUrl``: a short-lived download URL of a file posted in a room (for
the room's members) or in a chat (for its participants) only."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import ws_route
from lambdas.contract.errors import AttachmentNotFound
from lambdas.contract.frames import ack_attachment_url
from lambdas.contract.validation import parse_attachment_url


@ws_route(action="getAttachmentUrl")
def handler(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
    request = parse_attachment_url(frame)
    if request.chat_id is not None:  # ChatNotFound for a non-participant
        who = runtime.connections().identity(connection_id)
        runtime.chats().member(request.chat_id, who.user_id)
        target = ("chatId", request.chat_id)
    else:  # NotInRoom for a connection outside the room
        assert request.room_id is not None
        runtime.connections().member(connection_id, request.room_id)
        target = ("roomId", request.room_id)
    found = runtime.messages().attachment(request.room_id, request.key, chat_id=request.chat_id)
    if found is None:
        raise AttachmentNotFound(f"no such attachment in this {target[0][:-2]}", field="key")
    url, expires_at = runtime.media().download_url(found)
    return ack_attachment_url(target, request.key, url, expires_at)
