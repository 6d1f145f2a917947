"""REST ``POST /chats``: a direct chat (one per pair) or a group."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.chats import parse_create_chat
from lambdas.domain.conversations import create_chat


@authed_endpoint(body=True)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    limit = runtime.settings().max_group_participants
    wanted = parse_create_chat(request.body, request.identity.user_id, limit)
    chat, created = create_chat(runtime.chats(), runtime.users(), request.identity, wanted)
    return (201 if created else 200), chat.to_wire()
