"""REST ``GET /chats/{chatId}``: one chat and its participants, for a participant; a direct chat
carries its peer's presence (contract v3)."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.chats import check_chat_id


@authed_endpoint(body=False)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    chat_id = check_chat_id(request.path)
    detail = runtime.chats().detail(chat_id, request.identity.user_id)
    peer = detail.summary.peer
    presence = None
    if peer is not None:
        presence = runtime.connections().presence_of([peer.user_id])[peer.user_id].to_wire()
    return 200, {**detail.to_wire(), "presence": presence}
