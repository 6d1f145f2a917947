"""REST ``GET /chats``: the caller's chats, most recent activity first, page by page; a direct
chat carries its peer's presence."""

from __future__ import annotations

from typing import Any

from lambdas import runtime
from lambdas.apigw import RestRequest, authed_endpoint
from lambdas.contract.chats import encode_cursor, inbox_cursor, parse_page


@authed_endpoint(body=False)
def handler(request: RestRequest) -> tuple[int, dict[str, Any]]:
    page = parse_page(request.query)
    after = inbox_cursor(page)
    chats, after = runtime.chats().list_chats(request.identity.user_id, page.limit, after)
    peers = [chat.peer.user_id for chat in chats if chat.peer is not None]
    presence = runtime.connections().presence_of(peers) if peers else {}
    return 200, {
        "chats": [
            {
                **chat.to_wire(),
                "presence": presence[chat.peer.user_id].to_wire() if chat.peer else None,
            }
            for chat in chats
        ],
        "nextCursor": encode_cursor(after) if after is not None else None,
    }
