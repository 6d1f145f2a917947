"""REST ``POST /chats/{chatId}/participants``: a participant adds others to a group."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.chats import check_chat_id, parse_add_participants
from lambdas.domain.conversations import add_participants


@authed_endpoint(body=True)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    chat_id = check_chat_id(request.path)
    limit = runtime.settings().max_group_participants
    wanted = parse_add_participants(request.body, request.identity.user_id, limit)
    chat = add_participants(
        runtime.chats(), runtime.users(), request.identity, chat_id, list(wanted.user_ids)
    )
    return 200, chat.to_wire()
