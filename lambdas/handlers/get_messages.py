"""WebSocket ``getMessages``: one page of a room's history (or of a chat of the user), oldest
first, under 128 KB."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import ws_route
from lambdas.contract.frames import history_frame
from lambdas.contract.validation import parse_history
from lambdas.domain.conversations import chat_history
from lambdas.domain.messages import fit_history_page


@ws_route(action="getMessages")
def handler(frame: dict[str, Any], connection_id: str) -> dict[str, Any]:
    request = parse_history(frame)
    if request.chat_id is not None:
        who = runtime.connections().identity(connection_id)
        messages, next_before = chat_history(
            runtime.chats(), runtime.messages(), who.user_id, request
        )
        return history_frame(None, messages, next_before, chat_id=request.chat_id)
    messages, next_before = runtime.messages().history(
        request.room_id, request.limit, request.before
    )
    messages, next_before = fit_history_page(request.room_id, messages, next_before)
    return history_frame(request.room_id, messages, next_before)
