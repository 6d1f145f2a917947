"""REST ``GET /chats/{chatId}/messages``: a page of a chat's history, as ``getMessages``."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.chats import check_chat_id, history_query
from lambdas.contract.validation import HistoryRequest, history_page
from lambdas.domain.conversations import chat_history


@authed_endpoint(body=False)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    chat_id = check_chat_id(request.path)
    limit, before = history_page(history_query(request.query))
    wanted = HistoryRequest(room_id=None, limit=limit, before=before, chat_id=chat_id)
    messages, next_before = chat_history(
        runtime.chats(), runtime.messages(), request.identity.user_id, wanted
    )
    return 200, {
        "chatId": chat_id,
        "messages": [m.to_wire() for m in messages],
        "nextBefore": next_before,
    }
